// Connects the app's real clients with a URL and a password, composed as asked, for the
// password tests. Each stdin line is a JSON list [{name, client: "pg"|"redis", url,
// password, compose}], answered by one stdout line, the list of results; one process
// serves the session (loading pg and ioredis costs a third of a second). A check is:
//   compose "contract": the app contract's composition (docs/app-contract.md, url_passwords):
//                       url.password = encodeURIComponent(password) on a password-free URL
//           "setter":   URL's password setter alone, without encodeURIComponent (a defect)
//           "as-is":    the URL already holds the password (a managed store's whole URL,
//                       or the old `$(PASSWORD)`-inside-the-URL form)
// For each, the result is {name, ok, detail}: ok when the client's own URL parser gives back the
// password (pg: pg-connection-string, pg's parser; ioredis: its parseURL) and the real
// server accepts the login (pg: SELECT current_user; ioredis: PING).
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import pg from "pg";
import Redis from "ioredis";

const requireFromPg = createRequire(createRequire(import.meta.url).resolve("pg"));
const { parse } = requireFromPg("pg-connection-string");

function compose({ url, password, compose: how }) {
  if (how === "as-is") return url;
  const composed = new URL(url);
  composed.password = how === "contract" ? encodeURIComponent(password) : password;
  return composed.href;
}

async function viaPg(href, password) {
  const parsed = parse(href).password;
  const client = new pg.Client({ connectionString: href, connectionTimeoutMillis: 5000 });
  client.on("error", () => {});
  try {
    await client.connect();
    const { rows } = await client.query("SELECT current_user AS user");
    return { ok: parsed === password, detail: `${rows[0].user}; parsed password ${parsed === password ? "equal" : "differs"}` };
  } finally {
    await client.end().catch(() => {});
  }
}

async function viaRedis(href, password) {
  const redis = new Redis(href, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  redis.on("error", () => {});
  const parsed = redis.options.password;
  try {
    await redis.connect();
    const pong = await redis.ping();
    return { ok: pong === "PONG" && parsed === password, detail: `${pong}; parsed password ${parsed === password ? "equal" : "differs"}` };
  } finally {
    redis.disconnect();
  }
}

async function withTimeout(promise) {
  let timer;
  const late = new Promise((_, fail) => (timer = setTimeout(() => fail(new Error("no answer in 8s")), 8000)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  const results = [];
  for (const check of JSON.parse(line)) {
    try {
      const href = compose(check);
      const run = check.client === "pg" ? viaPg : viaRedis;
      results.push({ name: check.name, ...(await withTimeout(run(href, check.password))) });
    } catch (err) {
      results.push({ name: check.name, ok: false, detail: `${err.code ?? ""} ${err.message}`.trim() });
    }
  }
  console.log(JSON.stringify(results));
}
process.exit(0);
