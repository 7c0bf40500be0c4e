// Runs the migration command (its arguments) once PostgreSQL accepts connections, with
// DATABASE_URL holding the password. Rendered into the migration Job as `node -e`.
// Why: on a first `kubectl apply -R` the Job starts before Postgres does, and a crashed
// Postgres answers "the database system is starting up" while it recovers; either way
// the migration would burn its retries. Readiness is asked in Postgres's own protocol
// (a StartupMessage): an authentication request, or any error but 57P03
// (cannot_connect_now), means the server is up, and the migration reports the rest.
// The password is set percent-encoded: URL's setter alone leaves "%" as it is.
const net = require("node:net");
const { spawn } = require("node:child_process");

const url = new URL(process.env.DATABASE_URL);
if (process.env.DATABASE_PASSWORD) url.password = encodeURIComponent(process.env.DATABASE_PASSWORD);
const user = decodeURIComponent(url.username);
const database = decodeURIComponent(url.pathname.slice(1)) || user;
const waitSeconds = Number(process.env.DATABASE_WAIT_SECONDS || 300);
const deadline = Date.now() + waitSeconds * 1000;

function startup() {
  const pairs = Buffer.from(`user\0${user}\0database\0${database}\0\0`);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + pairs.length, 0);
  head.writeInt32BE(196608, 4); // protocol 3.0
  return Buffer.concat([head, pairs]);
}

function probe(done) {
  const socket = net.connect(Number(url.port || 5432), url.hostname);
  let reply = Buffer.alloc(0);
  const finish = (state) => {
    socket.destroy();
    done(state);
  };
  socket.setTimeout(5000, () => finish("no answer"));
  socket.on("error", (err) => finish(err.code || err.message));
  socket.on("connect", () => socket.write(startup()));
  socket.on("data", (chunk) => {
    reply = Buffer.concat([reply, chunk]);
    if (reply[0] !== 0x45) return finish("up"); // not 'E': an authentication request
    if (reply.length < 5 || reply.length < 1 + reply.readInt32BE(1)) return;
    const code = /C([0-9A-Z]{5})\0/.exec(reply.toString("latin1", 5));
    finish(code && code[1] === "57P03" ? "starting up" : "up");
  });
}

function run() {
  const [command, ...args] = process.argv.slice(1);
  const child = spawn(command, args, { stdio: "inherit", env: { ...process.env, DATABASE_URL: url.href } });
  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

(function wait() {
  probe((state) => {
    if (state === "up") return run();
    if (Date.now() > deadline) {
      console.error(`migrate: ${url.hostname}:${url.port || 5432} not accepting connections after ${waitSeconds}s (${state})`);
      process.exit(1);
    }
    console.error(`migrate: waiting for ${url.hostname}:${url.port || 5432} (${state})`);
    setTimeout(wait, 500);
  });
})();
