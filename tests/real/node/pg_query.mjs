// A stand-in for the migration command: it connects with the DATABASE_URL it is handed
// (pg parses it with pg-connection-string, as Prisma's URL is parsed), runs one query
// (argv[2], default: the user it logged in as) and prints {row} as JSON; any failure
// exits 1 with "pg_query: <SQLSTATE or errno> <message>" on stderr.
import pg from "pg";

const client = new pg.Client({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 5000 });
try {
  await client.connect();
  const { rows } = await client.query(process.argv[2] ?? "SELECT current_user AS user");
  console.log(JSON.stringify({ row: rows[0] }));
  await client.end();
} catch (err) {
  console.error(`pg_query: ${err.code ?? ""} ${err.message}`);
  process.exit(1);
}
