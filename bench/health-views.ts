/**
 * The health views (migrations 0006, 0007 and 0009) and `partkeeper status` at scale, against limits measured in the
 * same run (never a timed test).
 *
 *   npx tsx bench/health-views.ts                                   # 1,000 parents x 100 monthly partitions
 *   npx tsx bench/health-views.ts --parents 100 --partitions-per-parent 50
 *   npx tsx bench/health-views.ts --explain                         # also EXPLAIN ANALYZE of the views
 *   npx tsx bench/health-views.ts --data-dir /tmp/hv                # keep the cluster; a second run reuses its tables
 *
 * Setup, in plain SQL: `--parents` range-time parents `public.hv_0001...` (bigint, timestamptz, text;
 * primary key (id, ts)), each with `--partitions-per-parent` monthly partitions ending `premake` (4)
 * months after the current one, plus a default partition; two connections, a few parents per
 * transaction (every partition created in a transaction holds an AccessExclusiveLock on itself, its
 * index and its TOAST table and index until commit: about 4 x 101 locks per parent, against a shared
 * lock table of max_locks_per_transaction x max_connections, 64 x 200 here). Every 10th parent gets
 * 300 rows over its last 12 months, every 20th 50 rows in its default partition; those parents are
 * analyzed. Then, in every run (also on a reused `--data-dir`, so a changed migration is what is
 * measured), partkeeper's schema from scratch (`migrate`), the policies (`recordManagedParents`:
 * month, premake 4, retention 24 months) and one maintain, archive and refresh-stats run per parent
 * in `parent_run`.
 *
 * Timed (median of `--repeats` after one warm-up, wall time on a client, rows fetched): the limits,
 * a bare catalog read of every partition with its bound (pg_inherits x pg_class, pg_get_expr) and the
 * sum of pg_total_relation_size over pg_inherits; then `partkeeper.parents` (goal < 1 s),
 * `parent_health(now())`, `record_partition_bounds()` with nothing new (what each job run adds) and
 * with every bound to record, `parents` with no bounds recorded (read from the catalog), `partitions` (count and all rows, the latter with sizes), `partitions` of
 * one parent, `readHealth` end to end (what `partkeeper status` reads) and its three reads alone
 * (parent_status, partition_health in its order, the readCatalog snapshot that gives sizes and
 * checkManageable's input), and `formatHealth` of that report; for reference, the catalog read with
 * `pg_get_expr(relpartbound, 0)` (bounds have no column references, so no relation to open). Then
 * `--archived-per-parent` dropped partitions per parent are recorded in `partkeeper.archive` and the
 * views that read them are timed again, with `archive_catalog`.
 *
 * No lock limit is hit at this scale: pg_total_relation_size and pg_get_expr release each
 * relation's lock before the next (measured with max_locks_per_transaction 64 and 406,000 relations).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createClient, formatHealth, parseConfig, readHealth, type HealthReport, type Sql } from "@partkeeper/core";
import { startLocalPostgres } from "../packages/cli/src/local/embedded-postgres.ts";
import { readCatalog } from "../packages/core/src/catalog/read-catalog.ts";
import { migrate } from "../packages/core/src/db/migrate.ts";
import { recordManagedParents, recordParentRuns } from "../packages/core/src/records/managed-parents.ts";
import { recordPartitionBounds } from "../packages/core/src/records/partition-bounds.ts";

const { values: args } = parseArgs({
  options: {
    parents: { type: "string", default: "1000" },
    "partitions-per-parent": { type: "string", default: "100" },
    "archived-per-parent": { type: "string", default: "24" },
    repeats: { type: "string", default: "5" },
    "parents-per-transaction": { type: "string", default: "5" },
    explain: { type: "boolean", default: false },
    "data-dir": { type: "string" },
  },
});
const parents = Number(args.parents);
const perParent = Number(args["partitions-per-parent"]);
const archivedPerParent = Number(args["archived-per-parent"]);
const repeats = Number(args.repeats);
const parentsPerTransaction = Number(args["parents-per-transaction"]);
const PREMAKE = 4;
const SETUP_CONNECTIONS = 2;

const out = (line = "") => process.stdout.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 2 : 1)} ms`);
const count = (n: number) => n.toLocaleString("en-US");
const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(0)} s`;

const parentName = (i: number) => `hv_${String(i + 1).padStart(4, "0")}`;
/** First day of the month `offset` months after the current one, UTC. */
const monthStart = (offset: number) => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
};
const bound = (d: Date) => `'${d.toISOString().slice(0, 10)} 00:00:00+00'`;
const suffix = (d: Date) => `_p${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
/** Month offsets of the live partitions: the last `premake` after the current one. */
const firstOffset = PREMAKE - perParent + 1;

const config = parseConfig({
  archive: { location: "s3://bench/archive" },
  tables: Array.from({ length: parents }, (_, i) => ({ table: parentName(i), strategy: "range-time", interval: "month", premake: PREMAKE, retention: "24 months" })),
});

/** One parent: the table, its monthly partitions, its default partition (last: attaching a range partition would scan it). */
function parentDdl(i: number): string {
  const name = parentName(i);
  const statements = [`create table public.${name} (id bigint not null, ts timestamptz not null, note text, primary key (id, ts)) partition by range (ts)`];
  for (let m = 0; m < perParent; m++) {
    const from = monthStart(firstOffset + m);
    statements.push(`create table public.${name}${suffix(from)} partition of public.${name} for values from (${bound(from)}) to (${bound(monthStart(firstOffset + m + 1))})`);
  }
  statements.push(`create table public.${name}_default partition of public.${name} default`);
  if (i % 10 === 0) {
    // 300 rows over the last 12 months before the current one (25 a month).
    statements.push(
      `insert into public.${name} (id, ts, note) select g, ${bound(monthStart(-12))}::timestamptz + (g % 12) * interval '1 month' + interval '1 hour', 'row ' || g from generate_series(1, 300) g`,
    );
  }
  if (i % 20 === 0) {
    statements.push(`insert into public.${name} (id, ts, note) select g, timestamptz '2200-01-01 00:00:00+00' + g * interval '1 day', 'late ' || g from generate_series(1, 50) g`);
  }
  return statements.join(";\n");
}

async function setUp(url: string): Promise<void> {
  const started = performance.now();
  out(`setup: ${count(parents)} parents x (${perParent} monthly partitions + default), ${SETUP_CONNECTIONS} connections, ${parentsPerTransaction} parents per transaction`);
  const clients = Array.from({ length: SETUP_CONNECTIONS }, () => createClient(url, { max: 1 }));
  let next = 0;
  let done = 0;
  let reported = 0;
  try {
    await Promise.all(
      clients.map(async (client) => {
        while (next < parents) {
          const first = next;
          next = Math.min(parents, next + parentsPerTransaction);
          const batch = Array.from({ length: next - first }, (_, k) => parentDdl(first + k));
          // One simple-protocol string: one implicit transaction.
          await client.unsafe(batch.join(";\n"));
          done += batch.length;
          if (done - reported >= parents / 20 || done === parents) {
            reported = done;
            out(`  ${count(done)}/${count(parents)} parents, ${count(done * (perParent + 1))} partitions, ${elapsed(started)}`);
          }
        }
      }),
    );
    const sql = clients[0]!;
    const populated = Array.from({ length: parents }, (_, i) => i).filter((i) => i % 10 === 0 || i % 20 === 0);
    const t = performance.now();
    for (const i of populated) await sql.unsafe(`analyze public.${parentName(i)}`);
    out(`  analyzed ${populated.length} parents with rows (and their partitions), ${elapsed(t)}`);
    await sql`create table public.hv_setup_done ()`;
    out(`  tables set up in ${elapsed(started)}`);
  } finally {
    await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
  }
}

/**
 * partkeeper's schema from scratch (a reused cluster gets the migrations as they are now), the
 * policies, and one successful maintain, archive and refresh-stats run per parent.
 */
async function installPartkeeper(sql: Sql): Promise<void> {
  const started = performance.now();
  await sql`drop schema if exists partkeeper cascade`;
  await migrate(sql);
  await recordManagedParents(sql, config.tables, true);
  for (const job of ["maintain", "archive", "refresh-stats"]) {
    const [run] = await sql`insert into partkeeper.job_run (job, dry_run, finished_at, status) values (${job}, false, now(), 'succeeded') returning id::float8 as id`;
    await recordParentRuns(sql, run!.id as number, job, config.tables.map((t) => ({ parent: t.parent, status: "ok" as const })));
  }
  // What each job run ends with (run-job.ts): the bounds of the partitions the views read.
  await recordPartitionBounds(sql);
  out(`partkeeper schema migrated, ${count(parents)} policies, ${count(3 * parents)} parent runs and every partition's bound recorded, ${elapsed(started)}`);
}

/** Records `archivedPerParent` dropped partitions per parent, older than its live ones. */
async function recordArchives(sql: Sql): Promise<void> {
  await sql`delete from partkeeper.archive`;
  await sql.unsafe(`
    insert into partkeeper.archive (parent_schema, parent_name, partition_schema, partition_name, bound_expression, state, object_key, manifest_key, rows, bytes, sha256, verified_at)
    select 'public', p.name, 'public', p.name || to_char(m.lower, '"_p"YYYY_MM'),
      format('FOR VALUES FROM (%L) TO (%L)', to_char(m.lower, 'YYYY-MM-DD HH24:MI:SS+00'), to_char(m.lower + interval '1 month', 'YYYY-MM-DD HH24:MI:SS+00')),
      'dropped', 'public/' || p.name || '/data.parquet', 'public/' || p.name || '/manifest.json', 1000, 65536, md5(p.name), now()
    from (select 'hv_' || lpad(g::text, 4, '0') as name from generate_series(1, ${parents}) g) p
    cross join lateral (select (date_trunc('month', now() at time zone 'UTC') + make_interval(months => ${firstOffset} - k)) as lower
                        from generate_series(1, ${archivedPerParent}) k) m`);
}

interface Timing {
  readonly name: string;
  readonly goalMs?: number;
  readonly limit?: "catalog" | "sizes";
  readonly medianMs?: number;
  readonly minMs?: number;
  readonly rows?: number;
  readonly error?: string;
}

/** One warm-up, then `repeats` runs; the median. */
async function time(name: string, run: () => Promise<number>, extra: Partial<Timing> = {}): Promise<Timing> {
  try {
    let rows = await run();
    const runs: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t = performance.now();
      rows = await run();
      runs.push(performance.now() - t);
    }
    return { name, ...extra, medianMs: median(runs), minMs: Math.min(...runs), rows };
  } catch (error) {
    return { name, ...extra, error: `${(error as { code?: string }).code ?? ""} ${(error as Error).message}`.trim() };
  }
}

const query = (sql: Sql, text: string) => async () => (await sql.unsafe(text)).length;

function printTable(title: string, timings: ReadonlyArray<Timing>): void {
  const limit = (kind: Timing["limit"]) => timings.find((t) => t.name.startsWith(`limit: ${kind}`))?.medianMs;
  out();
  out(title);
  out(`  limits: catalog = ${CATALOG}`);
  out(`          sizes = ${SIZES}`);
  out(`  ${"measure".padEnd(74)} ${"median".padStart(9)} ${"min".padStart(9)} ${"rows".padStart(8)}  vs limit`);
  for (const t of timings) {
    if (t.error) {
      out(`  ${t.name.padEnd(74)} FAILED: ${t.error}`);
      continue;
    }
    const base = t.limit ? limit(t.limit) : undefined;
    const ratio = base && !t.name.startsWith("limit") ? `${(t.medianMs! / base).toFixed(1)}x ${t.limit}` : "";
    const goal = t.goalMs === undefined ? "" : `  goal < ${ms(t.goalMs)}: ${t.medianMs! < t.goalMs ? "met" : "MISSED"}`;
    out(`  ${t.name.padEnd(74)} ${ms(t.medianMs!).padStart(9)} ${ms(t.minMs!).padStart(9)} ${count(t.rows!).padStart(8)}  ${ratio}${goal}`);
  }
}

// Table partitions only: with a primary key, pg_inherits also links each partition's index to the parent's.
const CATALOG = "select c.relname, pg_get_expr(c.relpartbound, c.oid) from pg_inherits i join pg_class c on c.oid = i.inhrelid where c.relkind in ('r', 'p')";
const CATALOG_NO_RELATION = CATALOG.replace("c.relpartbound, c.oid", "c.relpartbound, 0");
const SIZES = "select sum(pg_total_relation_size(i.inhrelid)) from pg_inherits i join pg_class c on c.oid = i.inhrelid where c.relkind in ('r', 'p')";
/** partition_health in readHealth's order (read-health.ts readPartitions; live sizes come from its catalog snapshot). */
const READ_PARTITIONS = `
    select h.*, h.archived_bytes as bytes
    from partkeeper.partition_health(now()) h
    order by h.parent_schema, h.parent_name, h.state = 'default', h.bound_order nulls last, h.partition_name`;
const oneParent = parentName(Math.floor(parents / 2));

async function measure(sql: Sql, archived: boolean): Promise<Timing[]> {
  const timings: Timing[] = [];
  const add = async (t: Promise<Timing>) => {
    const timing = await t;
    timings.push(timing);
    out(`  ${timing.name}: ${timing.error ? `FAILED ${timing.error}` : ms(timing.medianMs!)}`);
  };
  const view = (name: string, text: string, extra: Partial<Timing>) => add(time(name, query(sql, text), extra));
  await view("limit: catalog, every partition's name and bound (pg_get_expr)", CATALOG, { limit: "catalog" });
  await view("limit: sizes, sum of pg_total_relation_size of every partition", SIZES, { limit: "sizes" });
  if (!archived) await view("reference: the catalog read with pg_get_expr(c.relpartbound, 0)", CATALOG_NO_RELATION, { limit: "catalog" });
  await view("select * from partkeeper.parents", "select * from partkeeper.parents", { limit: "catalog", goalMs: 1000 });
  if (!archived) {
    await view("select * from partkeeper.parent_health(now())", "select * from partkeeper.parent_health(now())", { limit: "catalog" });
    await view("partkeeper.record_partition_bounds(), nothing new (each job run)", "select partkeeper.record_partition_bounds()", { limit: "catalog" });
    // As after a server restart, or when every partition was created since the last job: bounds read from the catalog.
    await sql`delete from partkeeper.partition_bound`;
    await view("select * from partkeeper.parents, no bounds recorded", "select * from partkeeper.parents", { limit: "catalog" });
    const recordAll = async () => {
      await sql`delete from partkeeper.partition_bound`;
      return (await sql`select partkeeper.record_partition_bounds()`).length;
    };
    await add(time("delete, then record_partition_bounds() of every bound", recordAll, { limit: "catalog" }));
  }
  await view("select count(*) from partkeeper.partitions", "select count(*) from partkeeper.partitions", { limit: "catalog" });
  await view("select * from partkeeper.partitions (sizes of every partition)", "select * from partkeeper.partitions", { limit: "sizes" });
  if (archived) {
    await view("select * from partkeeper.archive_catalog", "select * from partkeeper.archive_catalog", { limit: "catalog" });
    return timings;
  }
  await view(`select * from partkeeper.partitions where parent_name = '${oneParent}'`, `select * from partkeeper.partitions where parent_name = '${oneParent}'`, {
    limit: "catalog",
  });
  let report: HealthReport | undefined;
  const ctx = { sql, config, clock: () => new Date() };
  const readAll = async () => {
    report = await readHealth(ctx);
    return report.parents.length;
  };
  await add(time("readHealth (partkeeper status's read), end to end", readAll, { limit: "sizes" }));
  await view("  its parent_status(now()) query (problem, default rows, runs)", "select * from partkeeper.parent_status(now())", { limit: "catalog" });
  await view("  its partition_health(now()) query (all rows, ordered, no sizes)", READ_PARTITIONS, { limit: "catalog" });
  const requests = config.tables.map((t) => ({ name: t.parent, wantMaxKey: false }));
  await add(time("  its catalog snapshot (readCatalog: bounds, sizes, columns)", async () => (await readCatalog(sql, requests)).parents.length, { limit: "sizes" }));
  if (report) {
    const r = report;
    await add(time("formatHealth of that report (no colour, 100 columns)", async () => formatHealth(r, { color: false, width: 100 }).split("\n").length));
  }
  return timings;
}

/** readHealth's time outside its three reads (parent_status, partition_health, readCatalog): the report assembled in JS. */
function printAssembly(timings: ReadonlyArray<Timing>): void {
  const of = (prefix: string) => timings.find((t) => t.name.trimStart().startsWith(prefix))?.medianMs;
  const parts = [of("readHealth"), of("its parent_status"), of("its partition_health"), of("its catalog snapshot")];
  if (parts.some((x) => x === undefined)) return;
  const [all, ...reads] = parts as number[];
  out(`  readHealth minus its three reads (the report assembled in JS): ${ms(all! - reads.reduce((a, b) => a + b, 0))}`);
}

async function explain(sql: Sql, text: string): Promise<void> {
  out();
  out(`EXPLAIN (ANALYZE, BUFFERS) ${text}`);
  const rows = await sql.unsafe(`explain (analyze, buffers) ${text}`);
  for (const r of rows) out(`  ${r["QUERY PLAN"]}`);
}

const root = args["data-dir"] ? path.resolve(args["data-dir"]) : await mkdtemp(path.join(os.tmpdir(), "partkeeper-health-views-"));
const dataDir = path.join(root, "pg");
// persistent: the cluster stays for --data-dir; a scratch root is removed below.
const pg = await startLocalPostgres(dataDir, { persistent: true });
const sql = createClient(pg.url, { max: 1 });
try {
  const [{ version }] = (await sql`select current_setting('server_version') as version`) as unknown as [{ version: string }];
  out(`PostgreSQL ${version}, node ${process.version}, ${os.cpus().length} cores; ${count(parents)} parents x ${perParent} partitions; median of ${repeats} after a warm-up`);
  const [ready] = await sql`select to_regclass('public.hv_setup_done') is not null as done`;
  if (ready!.done) out(`setup: reusing the cluster in ${dataDir}`);
  else await setUp(pg.url);
  await installPartkeeper(sql);
  const [shape] = await sql`select (select count(*)::int from pg_inherits i join pg_class c on c.oid = i.inhrelid where c.relkind in ('r', 'p')) as partitions, (select count(*)::int from pg_class) as relations,
    current_setting('max_locks_per_transaction') as locks`;
  out(`${count(shape!.partitions)} partitions, ${count(shape!.relations)} relations in pg_class; max_locks_per_transaction ${shape!.locks}`);

  out();
  out("timing:");
  const timings = await measure(sql, false);
  printTable(`${count(shape!.partitions)} live partitions of ${count(parents)} parents, no archives (median of ${repeats}):`, timings);
  printAssembly(timings);
  if (args.explain) {
    await explain(sql, "select * from partkeeper.parents");
    await explain(sql, "select count(*) from partkeeper.partitions");
    await explain(sql, `select * from partkeeper.partitions where parent_name = '${oneParent}'`);
  }

  if (archivedPerParent > 0) {
    await recordArchives(sql);
    out();
    out(`recorded ${count(parents * archivedPerParent)} dropped partitions (${archivedPerParent} per parent) in partkeeper.archive; timing:`);
    const withArchives = await measure(sql, true);
    printTable(`the same with ${count(parents * archivedPerParent)} archived partitions (median of ${repeats}):`, withArchives);
    if (args.explain) await explain(sql, "select count(*) from partkeeper.partitions");
    await sql`delete from partkeeper.archive`;
  }
} finally {
  await sql.end({ timeout: 5 });
  await pg.stop();
  if (!args["data-dir"]) await rm(root, { recursive: true, force: true });
  else out(`cluster kept in ${dataDir}: the same --data-dir reuses it`);
}
