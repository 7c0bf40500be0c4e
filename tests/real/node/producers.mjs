// Real BullMQ producers for the crash tests: each adds jobs to its queue until told to
// stop, as app pods enqueue while the queue Redis is killed under them. Every job whose
// Queue.add() resolved is one stdout line {queue, id, state}: that acknowledgement is
// what must survive. A run starts with a stdin line of JSON {redis: URL, prefix,
// queues: [...], perQueue: N} and ends with the line "stop".
//   Per queue, one job first taken by a worker ("active"); then each producer adds in
//   turn "waiting", "prioritized" (priority) and "delayed" (an hour) jobs. A failed add
//   is {queue, error}. On "stop", the producers finish their adds: {done: true}.
// One process serves every run of a session, one run at a time (starting node and loading
// BullMQ costs about half a second); it exits when stdin closes.
// Each producer has its own connection (as each app pod does); maxRetriesPerRequest null
// lets an add wait for the reconnect instead of failing while Redis restarts.
import { Queue, Worker } from "bullmq";
import IORedis from "ioredis";

import { createInterface } from "node:readline";

let spec;
let prefix;
const payload = { kind: "test", body: "x".repeat(64) };
const kinds = [
  ["waiting", {}],
  ["prioritized", { priority: 3 }],
  ["delayed", { delay: 3_600_000 }],
];
let connections = [];
const connection = () => {
  const c = new IORedis(spec.redis, { maxRetriesPerRequest: null });
  c.on("error", () => {}); // refused while Redis restarts: ioredis reconnects by itself
  connections.push(c);
  return c;
};
const say = (line) => process.stdout.write(JSON.stringify(line) + "\n");
let stopping = false;

// Before any producer runs, so that the worker takes exactly this job.
async function active(name) {
  const q = new Queue(name, { connection: connection(), prefix });
  await q.add("job", payload);
  const worker = new Worker(name, null, { connection: connection(), prefix, autorun: false });
  const taken = await worker.getNextJob("token-active");
  await worker.close(true);
  await q.close();
  say({ queue: name, id: taken.id, state: "active" });
}

async function produce(name) {
  const q = new Queue(name, { connection: connection(), prefix });
  for (let i = 0; !stopping; i++) {
    const [state, opts] = kinds[i % kinds.length];
    try {
      const job = await q.add("job", payload, opts);
      say({ queue: name, id: job.id, state });
    } catch (err) {
      say({ queue: name, error: String(err.message ?? err) });
      await new Promise((done) => setTimeout(done, 20));
    }
  }
  await q.close();
}

async function run() {
  for (const name of spec.queues) await active(name);
  const producers = [];
  for (const name of spec.queues) {
    for (let n = 0; n < (spec.perQueue ?? 2); n++) producers.push(produce(name));
  }
  await Promise.all(producers);
}

let running = null;
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "stop") {
    stopping = true;
    await running;
    for (const c of connections) c.disconnect();
    connections = [];
    say({ done: true });
  } else {
    spec = JSON.parse(line);
    prefix = spec.prefix ?? "bull";
    stopping = false;
    running = run();
  }
}
process.exit(0);
