// Drives BullMQ (the app's queue library, pinned in package-lock.json) against real
// Redis servers for the real-component tests. One process serves the whole test session
// (node and BullMQ's scripts load once): each stdin line is a batch,
//   {"redis": URL, "prefix": "bull", "steps": [...]}
// answered by one stdout line, the JSON array of the steps' results.
//   {op: "enqueue", queue, waiting, prioritized, active, delayed}  jobs in each state
//   {op: "add", queue, count}          tries to add; reports how many were refused and why
//   {op: "counts", queues}             Queue.getJobCounts() per queue
//   {op: "metrics", queues, labels}    Queue.exportPrometheusMetrics(labels) per queue
//   {op: "states", queue, ids}         each job's Job.getState(), null where no such job
import { Queue, Worker } from "bullmq";
import IORedis from "ioredis";

import { createInterface } from "node:readline";

const connections = new Map();
const queues = new Map();
let opts;
const connect = (url, prefix) => {
  if (!connections.has(url)) connections.set(url, new IORedis(url, { maxRetriesPerRequest: null }));
  return { connection: connections.get(url), prefix };
};
const queue = (name) => {
  const key = `${opts.connection.options.port}/${opts.prefix}/${name}`;
  if (!queues.has(key)) queues.set(key, new Queue(name, opts));
  return queues.get(key);
};
const payload = { kind: "test", body: "x".repeat(64) };

async function enqueue({ queue: name, waiting = 0, prioritized = 0, active = 0, delayed = 0 }) {
  const q = queue(name);
  // Active jobs first: a worker takes the oldest waiting ones.
  for (let i = 0; i < active; i++) await q.add("job", payload);
  if (active) {
    const worker = new Worker(name, null, { ...opts, autorun: false });
    for (let i = 0; i < active; i++) await worker.getNextJob(`token-${i}`);
    await worker.close(true);
  }
  for (let i = 0; i < waiting; i++) await q.add("job", payload);
  for (let i = 0; i < prioritized; i++) await q.add("job", payload, { priority: 1 + (i % 5) });
  for (let i = 0; i < delayed; i++) await q.add("job", payload, { delay: 3_600_000 });
  return { queue: name };
}

async function add({ queue: name, count }) {
  const q = queue(name);
  let added = 0;
  const errors = [];
  for (let i = 0; i < count; i++) {
    try {
      await q.add("job", payload);
      added++;
    } catch (err) {
      errors.push(String(err.message ?? err));
    }
  }
  return { added, refused: errors.length, error: errors[0] ?? null };
}

async function counts({ queues: names }) {
  const out = {};
  for (const name of names) out[name] = await queue(name).getJobCounts();
  return out;
}

async function metrics({ queues: names, labels }) {
  const out = [];
  for (const name of names) out.push(await queue(name).exportPrometheusMetrics(labels));
  return out.join("\n");
}

async function states({ queue: name, ids }) {
  const q = queue(name);
  const out = {};
  for (const id of ids) {
    const job = await q.getJob(id);
    out[id] = job ? await job.getState() : null;
  }
  return out;
}

const ops = { enqueue, add, counts, metrics, states };

async function batch(line) {
  const spec = JSON.parse(line);
  opts = connect(spec.redis, spec.prefix ?? "bull");
  const results = [];
  try {
    for (const step of spec.steps) results.push(await ops[step.op](step));
  } catch (err) {
    results.push({ fatal: String(err.message ?? err) });
  }
  return results;
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim()) process.stdout.write(JSON.stringify(await batch(line)) + "\n");
}
for (const q of queues.values()) await q.close().catch(() => {});
for (const c of connections.values()) c.disconnect();
process.exit(0);
