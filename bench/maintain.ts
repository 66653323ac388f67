/**
 * The maintain job at 200 and 1,000 parents against pg_partman on the same server (never a timed test).
 *
 *   npx tsx bench/maintain.ts                          # create 200 x 30 days; no-op at 200 and 1,000 parents
 *   npx tsx bench/maintain.ts --parents 200,1000 --rounds 3
 *   npx tsx bench/maintain.ts --postgres embedded      # embedded PostgreSQL 18, no pg_partman rows
 *   npx tsx bench/maintain.ts --parents '' --concurrency 1,2,4 --rounds 5   # create only, at each maintain.concurrency
 *
 * Server (`--postgres`): `debian` is Debian's PostgreSQL 15 (/usr/lib/postgresql/15/bin) with its
 * `postgresql-15-partman` (pg_partman 4.7), in a fresh cluster on a free loopback port; `embedded`
 * is the npm PostgreSQL 18 the tests use; `auto` (default) is `debian` when pg_partman is installed,
 * else `embedded` with the reason printed. Both tools run on the same server, against the same
 * tables: `(id bigint, ts timestamptz, note text, primary key (id, ts)) partition by range (ts)`,
 * daily, 30 partitions premade ahead of today plus today's and a default partition: 32 per parent.
 *
 * Every run of create, and every size of no-op, runs in a fresh database (partkeeper's schema
 * migrated, pg_partman created where it runs): a create run holds its own tool's parents only
 * (schema `pk` for partkeeper, `pm` for pg_partman, `lim` for the limit); a no-op size holds both
 * tools' parents.
 *
 * create (`--create-parents`, 200; 0 skips it): fresh empty parents for each tool; partkeeper's maintain job
 *   creates their partitions (openJobContext + runJob + close, in this process), once per
 *   `--concurrency` value (maintain.concurrency; default 1,2,4), each in its own schema, against
 *   `partman.create_parent(..., 'native', 'daily', p_premake := 30, p_start_partition := today)` once
 *   per parent on one connection, and against the limit: the same CREATE statements as plain SQL, a
 *   parent per transaction, on one connection and on as many parallel connections as each
 *   concurrency above 1 (parents handed out from one queue). Which goes first rotates between
 *   rounds; `sync` before each (untimed).
 * no-op (`--parents`, 200 and 1,000): per size, parents with every partition in place (partkeeper's
 *   made by a maintain run, pg_partman's by create_parent), `vacuum analyze`, one untimed warm-up
 *   round (printed); then, interleaved, partkeeper's maintain
 *   job (nothing to do), its dry run (catalog read and plan only), `partman.run_maintenance()` and
 *   `CALL partman.run_maintenance_proc()`. Each run is checked to have created nothing.
 *
 * Medians of `--rounds` rounds (no warm-up round for create: a first create is a real first create);
 * ratios are partkeeper's time over pg_partman's (issue 8's goal: at most 0.5x; no-op over 1,000
 * parents under 2 s).
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createClient, openJobContext, parseConfig, runJob, silentLogger, type JobSummary, type Sql } from "@partkeeper/core";
import { startLocalPostgres, type LocalPostgres } from "../packages/cli/src/local/embedded-postgres.ts";
import { migrate } from "../packages/core/src/db/migrate.ts";
import { mapWithConcurrency } from "../packages/core/src/run/map-with-concurrency.ts";

const { values: args } = parseArgs({
  options: {
    parents: { type: "string", default: "200,1000" },
    "create-parents": { type: "string", default: "200" },
    premake: { type: "string", default: "30" },
    rounds: { type: "string", default: "3" },
    postgres: { type: "string", default: "auto" },
    concurrency: { type: "string", default: "1,2,4" },
  },
});
const noopSizes = args.parents.split(",").filter((n) => n.trim() !== "").map(Number);
const createParents = Number(args["create-parents"]);
const premake = Number(args.premake);
const rounds = Number(args.rounds);
const concurrencies = args.concurrency.split(",").map(Number);
if (concurrencies.some((c) => !Number.isInteger(c) || c < 1)) throw new Error(`--concurrency: whole numbers of at least 1, e.g. 1,2,4 (got ${args.concurrency})`);

const DEBIAN_BIN = "/usr/lib/postgresql/15/bin";
const PARTMAN_CONTROL = "/usr/share/postgresql/15/extension/pg_partman.control";

const out = (line = "") => process.stdout.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const count = (n: number) => n.toLocaleString("en-US");
const exists = (file: string) => stat(file).then(() => true, () => false);

/** Which server to start, and why pg_partman rows are skipped when they are. */
async function chooseServer(): Promise<{ binDir?: string; partman: boolean; reason?: string }> {
  const debian = (await exists(path.join(DEBIAN_BIN, "postgres"))) && (await exists(PARTMAN_CONTROL));
  if (args.postgres === "embedded") return { partman: false, reason: "--postgres embedded" };
  if (debian) return { binDir: DEBIAN_BIN, partman: true };
  const reason = `${PARTMAN_CONTROL} or ${DEBIAN_BIN}/postgres is missing (apt-get install -y postgresql-15 postgresql-15-partman)`;
  if (args.postgres === "debian") throw new Error(`--postgres debian: ${reason}`);
  return { partman: false, reason };
}

const tableName = (i: number) => `m_${String(i + 1).padStart(4, "0")}`;
const today = () => {
  const now = new Date();
  return `${now.toISOString().slice(0, 10)} 00:00:00+00`;
};

/** `n` empty daily parents in a fresh schema (one transaction). */
async function createParentTables(sql: Sql, schema: string, n: number): Promise<void> {
  const statements = [`create schema ${schema}`];
  for (let i = 0; i < n; i++) {
    statements.push(`create table ${schema}.${tableName(i)} (id bigint not null, ts timestamptz not null, note text, primary key (id, ts)) partition by range (ts)`);
  }
  await sql.unsafe(statements.join(";\n"));
}

/**
 * A fresh database for one round or size, with partkeeper's schema (as after a first deployment: no
 * measured run migrates it) and pg_partman. Never dropped during the run (the cluster goes at the
 * end): dropping one unlinks tens of thousands of files, and the disk's work on them slowed the
 * next rounds' creates by up to 2x.
 */
async function withDatabase(admin: Sql, serverUrl: string, name: string, partman: boolean, work: (url: string, sql: Sql) => Promise<void>): Promise<void> {
  await admin.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const sql = createClient(url.toString(), { max: 1 });
  try {
    await migrate(sql);
    if (partman) {
      await sql`create schema partman`;
      await sql`create extension pg_partman schema partman`;
    }
    await work(url.toString(), sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Partitions (tables, the default included) of every parent in `schema`. */
async function partitionCount(sql: Sql, schema: string): Promise<number> {
  const [row] = await sql`
    select count(*)::int as n from pg_inherits i
    join pg_class p on p.oid = i.inhparent join pg_namespace n on n.oid = p.relnamespace
    join pg_class c on c.oid = i.inhrelid
    where n.nspname = ${schema} and c.relkind in ('r', 'p')`;
  return row!.n as number;
}

function configFor(schema: string, n: number, concurrency?: number) {
  return parseConfig({
    ...(concurrency === undefined ? {} : { maintain: { concurrency } }),
    tables: Array.from({ length: n }, (_, i) => ({ schema, table: tableName(i), strategy: "range-time", interval: "day", premake })),
  });
}

/** partkeeper's maintain job as a door runs it: open a job context, runJob, close. Returns ms and the summary. */
async function partkeeperMaintain(url: string, schema: string, n: number, dryRun: boolean, concurrency?: number): Promise<{ ms: number; summary: JobSummary }> {
  const started = performance.now();
  const { ctx, close } = await openJobContext({ databaseUrl: url, env: {}, config: configFor(schema, n, concurrency), logger: silentLogger });
  try {
    const summary = await runJob(ctx, { job: "maintain", dryRun });
    return { ms: performance.now() - started, summary };
  } finally {
    await close();
  }
}

function checkSummary(summary: JobSummary, expectedActions: number): void {
  const failed = summary.parents.filter((p) => p.status !== "ok");
  if (failed.length) throw new Error(`partkeeper: ${failed.length} parents not ok, first: ${failed[0]!.message}`);
  const actions = summary.parents.reduce((sum, p) => sum + p.actions.length, 0);
  if (actions !== expectedActions) throw new Error(`partkeeper: ${actions} actions, expected ${expectedActions}`);
}

/**
 * The limit for create: partkeeper's own statements (one `CREATE TABLE ... PARTITION OF` per
 * partition, the default partition last) sent as plain SQL, all of a parent's in one transaction, on
 * `connections` connections (parents handed out from one queue, each parent's transaction on one of
 * them): what the server needs to make these partitions, without a plan, a lock_timeout or a record.
 * `sql` must allow `connections` connections.
 */
async function plainSqlCreate(sql: Sql, schema: string, n: number, connections: number): Promise<number> {
  const now = new Date();
  const day = (k: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + k)).toISOString().slice(0, 10);
  const started = performance.now();
  await mapWithConcurrency(Array.from({ length: n }, (_, i) => i), connections, async (i) => {
    const parent = `${schema}.${tableName(i)}`;
    const statements = Array.from({ length: premake + 1 }, (_, k) => {
      const suffix = day(k).replaceAll("-", "_");
      return `create table ${parent}_p${suffix} partition of ${parent} for values from ('${day(k)} 00:00:00+00') to ('${day(k + 1)} 00:00:00+00')`;
    });
    statements.push(`create table ${parent}_default partition of ${parent} default`);
    await sql.begin(async (tx) => {
      for (const statement of statements) await tx.unsafe(statement);
    });
  });
  return performance.now() - started;
}

/**
 * Waits for the kernel to write back what earlier rounds left (a dropped database is thousands of
 * unlinked files): on this machine's virtual disk, writeback running under a measured round slowed
 * it by up to 2x, whichever tool it was.
 */
function settle(): void {
  execFileSync("sync");
}

/** create_parent for every parent of `schema`, one call each (each its own transaction), as a user would script it. */
async function partmanCreate(sql: Sql, schema: string, n: number): Promise<number> {
  const start = today();
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    await sql`select partman.create_parent(${`${schema}.${tableName(i)}`}, 'ts', 'native', 'daily', p_premake := ${premake}, p_start_partition := ${start})`;
  }
  return performance.now() - started;
}

interface Row {
  readonly name: string;
  readonly runs: number[];
  readonly error?: string;
}

/** Runs `measure` and returns its ms, or the error (pg_partman's run_maintenance can run out of shared memory). */
async function attempt(rows: Map<string, Row>, name: string, measure: () => Promise<number>): Promise<void> {
  const row = rows.get(name) ?? { name, runs: [] };
  rows.set(name, row);
  if (row.error) return;
  try {
    row.runs.push(await measure());
  } catch (error) {
    rows.set(name, { ...row, error: `${(error as { code?: string }).code ?? ""} ${(error as Error).message}`.trim() });
  }
}

function printRows(title: string, rows: ReadonlyArray<Row>, ratios: ReadonlyArray<[string, string]>, goalMs?: [string, number]): void {
  out();
  out(title);
  const by = new Map(rows.map((r) => [r.name, r]));
  for (const r of rows) {
    if (r.error) out(`  ${r.name.padEnd(58)} FAILED: ${r.error.split("\n")[0]}`);
    else out(`  ${r.name.padEnd(58)} ${secs(median(r.runs)).padStart(9)}   runs ${r.runs.map(secs).join(", ")}`);
  }
  for (const [a, b] of ratios) {
    const x = by.get(a);
    const y = by.get(b);
    if (!x?.runs.length || !y?.runs.length) continue;
    out(`  ratio ${a} / ${b}: ${(median(x.runs) / median(y.runs)).toFixed(2)}x`);
  }
  if (goalMs) {
    const x = by.get(goalMs[0]);
    if (x?.runs.length) out(`  goal ${goalMs[0]} < ${secs(goalMs[1])}: ${median(x.runs) < goalMs[1] ? "met" : "MISSED"}`);
  }
}

const PK_MAINTAIN = "partkeeper maintain (open, runJob, close)";
const PK_PLAN = "partkeeper maintain --dry-run (catalog read and plan)";
const PM_CREATE = "pg_partman create_parent x parents";
const PM_RUN = "pg_partman run_maintenance()";
const PM_PROC = "pg_partman CALL run_maintenance_proc()";
const pkCreate = (c: number) => `partkeeper maintain, concurrency ${c} (open, runJob, close)`;
const limitCreate = (c: number) => `limit: the same CREATEs as plain SQL, ${c} connection${c === 1 ? "" : "s"}`;

/**
 * One measured create run: the tool's parents in a fresh database of their own (made untimed), so each
 * tool meets the same catalog whichever ran before it in the round.
 */
interface CreateRun {
  readonly name: string;
  readonly schema: string;
  readonly partman: boolean;
  readonly measure: (url: string, sql: Sql) => Promise<number>;
}

async function benchCreate(admin: Sql, serverUrl: string, partman: boolean): Promise<void> {
  const rows = new Map<string, Row>();
  const perParent = premake + 2;
  const made = async (sql: Sql, who: string, schema: string) => {
    const partitions = await partitionCount(sql, schema);
    if (partitions !== createParents * perParent) throw new Error(`${who} made ${partitions} partitions, expected ${createParents * perParent}`);
  };
  const runs: CreateRun[] = concurrencies.map((c) => ({
    name: pkCreate(c),
    schema: "pk",
    partman: false,
    measure: async (url) => {
      const { ms, summary } = await partkeeperMaintain(url, "pk", createParents, false, c);
      checkSummary(summary, createParents * perParent);
      return ms;
    },
  }));
  if (partman) {
    runs.push({
      name: PM_CREATE,
      schema: "pm",
      partman: true,
      measure: async (_url, sql) => {
        const ms = await partmanCreate(sql, "pm", createParents);
        await made(sql, "pg_partman", "pm");
        return ms;
      },
    });
  }
  for (const c of [...new Set([1, ...concurrencies])]) {
    runs.push({
      name: limitCreate(c),
      schema: "lim",
      partman: false,
      measure: async (url, sql) => {
        // Its connections open inside its time, as partkeeper's pool opens its own inside its.
        const pool = c === 1 ? sql : createClient(url, { max: c });
        try {
          const ms = await plainSqlCreate(pool, "lim", createParents, c);
          await made(sql, "plain SQL", "lim");
          return ms;
        } finally {
          if (pool !== sql) await pool.end({ timeout: 5 });
        }
      },
    });
  }
  out();
  out(`create: ${count(createParents)} parents x (today + ${premake} premade + default) = ${count(createParents * perParent)} partitions per run, ${rounds} rounds, each run in a fresh database`);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < runs.length; k++) {
      const run = runs[(r + k) % runs.length]!;
      await withDatabase(admin, serverUrl, `bench_create_${r}_${k}`, run.partman, async (url, sql) => {
        await createParentTables(sql, run.schema, createParents);
        settle();
        await attempt(rows, run.name, () => run.measure(url, sql));
      });
    }
    out(`  round ${r + 1}: ${lastRuns(rows)}`);
  }
  const ratios: Array<[string, string]> = concurrencies.flatMap((c): Array<[string, string]> => [
    ...(partman ? [[pkCreate(c), PM_CREATE] as [string, string]] : []),
    [pkCreate(c), limitCreate(c)],
  ]);
  if (partman) ratios.push([PM_CREATE, limitCreate(1)]);
  for (const c of concurrencies.filter((c) => c > 1)) ratios.push([limitCreate(c), limitCreate(1)]);
  printRows(`create ${count(createParents)} x ${perParent} partitions (median of ${rounds}):`, [...rows.values()], ratios);
}

async function benchNoop(admin: Sql, serverUrl: string, partman: boolean, n: number): Promise<void> {
  const rows = new Map<string, Row>();
  out();
  out(`no-op maintain, ${count(n)} parents: setting up...`);
  await withDatabase(admin, serverUrl, `bench_noop_${n}`, partman, async (url, sql) => {
    let t = performance.now();
    await createParentTables(sql, "pk", n);
    const { summary } = await partkeeperMaintain(url, "pk", n, false);
    checkSummary(summary, n * (premake + 2));
    out(`  partkeeper's ${count(n)} parents made by a maintain run in ${secs(performance.now() - t)}`);
    if (partman) {
      t = performance.now();
      await createParentTables(sql, "pm", n);
      await partmanCreate(sql, "pm", n);
      out(`  pg_partman's ${count(n)} parents made by create_parent in ${secs(performance.now() - t)}`);
    }
    // As autovacuum leaves the catalog after thousands of new tables: right after them, its statistics
    // still describe the empty catalog, and the first catalog read of either tool ran up to 3x slower.
    await sql`vacuum analyze`;
    settle();
    const pkPartitions = await partitionCount(sql, "pk");
    const pmPartitions = partman ? await partitionCount(sql, "pm") : 0;
    const unchanged = async (schema: string, expected: number, who: string) => {
      const now = await partitionCount(sql, schema);
      if (now !== expected) throw new Error(`${who} changed the partition count from ${expected} to ${now}: not a no-op`);
    };
    const measures: Array<(into: Map<string, Row>) => Promise<void>> = [
      (into) =>
        attempt(into, PK_MAINTAIN, async () => {
          const { ms, summary } = await partkeeperMaintain(url, "pk", n, false);
          checkSummary(summary, 0);
          await unchanged("pk", pkPartitions, "partkeeper");
          return ms;
        }),
      (into) =>
        attempt(into, PK_PLAN, async () => {
          const { ms, summary } = await partkeeperMaintain(url, "pk", n, true);
          checkSummary(summary, 0);
          return ms;
        }),
    ];
    if (partman) {
      const partmanRun = (name: string, text: string) => (into: Map<string, Row>) =>
        attempt(into, name, async () => {
          const started = performance.now();
          await sql.unsafe(text);
          const ms = performance.now() - started;
          await unchanged("pm", pmPartitions, "pg_partman");
          return ms;
        });
      measures.push(partmanRun(PM_RUN, "select partman.run_maintenance()"), partmanRun(PM_PROC, "call partman.run_maintenance_proc()"));
    }
    // The first read of a freshly made catalog is slower for both tools (up to 1.5x here): a
    // scheduled run meets a catalog earlier runs have read, so one untimed round goes first.
    const warm = new Map<string, Row>();
    for (const m of measures) await m(warm);
    out(`  warm-up (not counted): ${lastRuns(warm)}`);
    for (let r = 0; r < rounds; r++) {
      settle();
      for (const m of r % 2 === 0 ? measures : [...measures].reverse()) await m(rows);
      out(`  round ${r + 1}: ${lastRuns(rows)}`);
    }
  });
  const ratios: Array<[string, string]> = [
    [PK_MAINTAIN, PM_RUN],
    [PK_MAINTAIN, PM_PROC],
  ];
  printRows(`no-op maintain, ${count(n)} parents x ${premake + 2} partitions (median of ${rounds}):`, [...rows.values()], ratios, n >= 1000 ? [PK_MAINTAIN, 2000] : undefined);
}

const lastRuns = (rows: Map<string, Row>) => [...rows.values()].map((x) => `${x.name.split(" (")[0]} ${x.error ? "FAILED" : secs(x.runs.at(-1)!)}`).join("; ");

const server = await chooseServer();
const root = await mkdtemp(path.join(os.tmpdir(), "partkeeper-maintain-"));
let pg: LocalPostgres | undefined;
let admin: Sql | undefined;
try {
  pg = await startLocalPostgres(path.join(root, "pg"), { persistent: false, ...(server.binDir ? { binDir: server.binDir } : {}) });
  admin = createClient(pg.url, { max: 1 });
  const [info] = await admin`select current_setting('server_version') as version, current_setting('max_locks_per_transaction') as locks, current_setting('max_connections') as connections`;
  out(`PostgreSQL ${info!.version} (${server.binDir ?? "embedded"}), node ${process.version}, ${os.cpus().length} cores; max_locks_per_transaction ${info!.locks}, max_connections ${info!.connections}`);
  if (server.partman) {
    const [ext] = await admin`select default_version from pg_available_extensions where name = 'pg_partman'`;
    out(`pg_partman ${ext!.default_version}`);
  } else {
    out(`pg_partman rows skipped: ${server.reason}`);
  }
  if (createParents > 0) await benchCreate(admin, pg.url, server.partman);
  for (const n of noopSizes) await benchNoop(admin, pg.url, server.partman, n);
} finally {
  await admin?.end({ timeout: 5 });
  await pg?.stop();
  await rm(root, { recursive: true, force: true });
}
