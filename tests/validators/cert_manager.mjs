// Validates cert-manager objects (a JSON list on stdin) with the models that
// @kubernetes-models/cert-manager generates from cert-manager's CRDs; prints one
// JSON list of problems, one string per object and mistake.
import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate";

const KINDS = { Certificate };
let input = "";
for await (const chunk of process.stdin) input += chunk;
const problems = [];
for (const obj of JSON.parse(input)) {
  const where = `${obj.kind}/${obj.metadata?.name}`;
  const Model = KINDS[obj.kind];
  if (!Model) {
    problems.push(`${where}: no cert-manager model for this kind`);
    continue;
  }
  try {
    new Model(obj).validate();
  } catch (err) {
    for (const e of err.errors ?? [{ instancePath: "", message: String(err.message) }]) {
      problems.push(`${where}: ${e.instancePath || "/"} ${e.message}`);
    }
  }
}
process.stdout.write(JSON.stringify(problems));
