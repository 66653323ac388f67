/**
 * What an application sees while partkeeper detaches a partition that another session holds a lock
 * on (a measurement, never a timed test).
 *
 *   npx tsx bench/detach-lock-stall.ts                # lock_timeout 1000 ms, 3 attempts
 *   npx tsx bench/detach-lock-stall.ts 500 3          # lock_timeout 500 ms, 3 attempts
 *
 * Starts an embedded PostgreSQL and, for each of two parents, runs the same timeline:
 *   0 s      an application of 4 connections loops single-row INSERTs and primary-key SELECTs
 *            through the parent (postgres.js, prepared statements), each timed;
 *   3 s      a "long transaction" reads the oldest partition directly (ACCESS SHARE on it) and
 *            stays open for 5 s;
 *   3.5 s    partkeeper's detachPartition (the archive job's first step) on that partition, with
 *            the DdlExecutor as the job builds it: lock_timeout per attempt, retries with backoff;
 *   8 s      the long transaction commits;
 *   9 s      the same detach again, now uncontended;
 *   10.5 s   the application stops.
 * Parent "with default" has a default partition, so partkeeper runs a plain DETACH in a
 * transaction (ACCESS EXCLUSIVE on the parent); parent "no default" gets DETACH ... CONCURRENTLY.
 * Prints the application's latency (p50/p99/max) before, during each detach attempt and during the
 * uncontended detach, and the DDL executor's log with timestamps. Each parent runs twice.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient, qualifiedName, type Logger } from "@partkeeper/core";
import { readCatalog } from "../packages/core/src/catalog/read-catalog.ts";
import { DdlExecutor } from "../packages/core/src/db/ddl-executor.ts";
import { detachPartition } from "../packages/core/src/partitions/detach-partition.ts";
import { startLocalPostgres } from "../packages/cli/src/local/embedded-postgres.ts";

const lockTimeoutMs = Number(process.argv[2] ?? 1000);
const attempts = Number(process.argv[3] ?? 3);
const WORKERS = 4;
const REPEATS = 2;
const T = { holdAt: 3000, holdFor: 5000, detachAt: 3500, retryAt: 9000, stopAt: 10_500 };

interface Op {
  readonly kind: "insert" | "select";
  readonly start: number;
  readonly ms: number;
}
interface Event {
  readonly at: number;
  readonly what: string;
}

const root = await mkdtemp(path.join(os.tmpdir(), "partkeeper-stall-"));
const pg = await startLocalPostgres(path.join(root, "pg"), { persistent: false });
const admin = createClient(pg.url, { max: 1 });
try {
  const [{ version } = { version: "?" }] = await admin<Array<{ version: string }>>`select current_setting('server_version') as version`;
  process.stdout.write(`PostgreSQL ${version}; lock_timeout ${lockTimeoutMs} ms, ${attempts} attempts; ${WORKERS} application connections\n`);
  for (let repeat = 1; repeat <= REPEATS; repeat++) {
    for (const withDefault of [true, false]) {
      const label = `${withDefault ? "with default (plain DETACH)" : "no default (CONCURRENTLY)"}, run ${repeat}`;
      report(label, await scenario(withDefault));
    }
  }
} finally {
  await admin.end({ timeout: 5 });
  await pg.stop();
  await rm(root, { recursive: true, force: true });
}

async function scenario(withDefault: boolean): Promise<{ ops: Op[]; events: Event[] }> {
  await admin.unsafe(`
    drop table if exists stall cascade;
    drop table if exists stall_p2025_01;
    create table stall (id bigint generated always as identity, ts timestamptz not null, body text not null,
      primary key (id, ts)) partition by range (ts);
    ${[1, 2, 3, 4, 5, 6]
      .map((m) => `create table stall_p2025_0${m} partition of stall for values from ('2025-0${m}-01 00:00:00+00') to ('2025-0${m + 1}-01 00:00:00+00');`)
      .join("\n")}
    ${withDefault ? "create table stall_default partition of stall default;" : ""}
    insert into stall (ts, body) select timestamptz '2025-01-01 00:00:00+00' + (g % 181) * interval '1 day', md5(g::text)
      from generate_series(1, 60000) g;`);
  await admin`vacuum analyze stall`;

  const t0 = performance.now();
  const now = () => Math.round(performance.now() - t0);
  const ops: Op[] = [];
  const events: Event[] = [];
  const event = (what: string) => events.push({ at: now(), what });
  const logger: Logger = {
    debug() {},
    info: (message, fields) => event(`${message} ${JSON.stringify(fields)}`),
    warn: (message, fields) => event(`${message} ${JSON.stringify(fields)}`),
    error: (message, fields) => event(`${message} ${JSON.stringify(fields)}`),
  };

  const app = createClient(pg.url, { max: WORKERS });
  const holder = createClient(pg.url, { max: 1 });
  const job = createClient(pg.url, { max: 2 });
  const exec = new DdlExecutor({ sql: job, dryRun: false, lockTimeoutMs, attempts, logger });
  const partition = qualifiedName("public", "stall_p2025_01");

  const worker = async (w: number) => {
    for (let i = 0; now() < T.stopAt; i++) {
      const ts = new Date(Date.UTC(2025, 5, 1 + ((w * 7 + i) % 28)));
      const start = now();
      let started = performance.now();
      const [row] = await app`insert into stall (ts, body) values (${ts}, ${"app"}) returning id, ts`;
      ops.push({ kind: "insert", start, ms: performance.now() - started });
      const selectStart = now();
      started = performance.now();
      await app`select id, ts, body from stall where id = ${row!.id} and ts = ${row!.ts}`;
      ops.push({ kind: "select", start: selectStart, ms: performance.now() - started });
    }
  };
  const detach = async (what: string) => {
    event(`${what}: detachPartition starts`);
    try {
      const [parent] = (await readCatalog(job, [{ name: qualifiedName("public", "stall"), wantMaxKey: false }])).parents;
      await detachPartition(exec, parent!, partition);
      event(`${what}: detached`);
    } catch (error) {
      event(`${what}: ${(error as Error).name}: ${(error as Error).message.slice(0, 110)}...`);
    }
  };

  const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
  const timeline = (async () => {
    await sleep(T.holdAt - now());
    const held = holder.begin(async (tx) => {
      await tx`select count(*) from stall_p2025_01`;
      event("long transaction holds ACCESS SHARE on stall_p2025_01");
      await sleep(T.holdFor);
    });
    await sleep(T.detachAt - now());
    const contended = detach("contended");
    await sleep(T.detachAt + 300 - now());
    // What the waiting detach holds and waits for: the relation locks of the backend running ALTER TABLE.
    const locks = await admin<Array<{ relation: string; mode: string; granted: boolean }>>`
      select l.relation::regclass::text as relation, l.mode, l.granted from pg_locks l join pg_stat_activity a using (pid)
      where l.locktype = 'relation' and a.query ilike 'alter table%detach%' and l.relation::regclass::text like 'stall%'
      order by l.granted desc, 1`;
    event(`detach backend's locks: ${locks.map((l) => `${l.relation} ${l.mode} ${l.granted ? "granted" : "WAITING"}`).join(", ")}`);
    await contended;
    await held;
    event("long transaction committed");
    await sleep(Math.max(0, T.retryAt - now()));
    await detach("uncontended");
  })();
  await Promise.all([...workers, timeline]);
  await Promise.all([app.end({ timeout: 5 }), holder.end({ timeout: 5 }), job.end({ timeout: 5 })]);
  return { ops, events };
}

function report(label: string, { ops, events }: { ops: Op[]; events: Event[] }): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const at = (prefix: string) => events.find((e) => e.what.startsWith(prefix))?.at ?? NaN;
  const last = (prefix: string) => events.filter((e) => e.what.startsWith(prefix)).at(-1)?.at ?? NaN;
  const contended = [at("contended: detachPartition"), last("contended: ")] as const;
  const uncontended = [at("uncontended: detachPartition"), last("uncontended: ")] as const;
  out(`\n== ${label}`);
  for (const e of events) out(`  ${(e.at / 1000).toFixed(3).padStart(7)} s  ${e.what}`);
  out(`  application ops started in each window (latency ms; ${ops.length} ops in all):`);
  out(`    ${"window".padEnd(40)} ${"ops".padStart(5)} ${"ops/s".padStart(6)} ${"p50".padStart(7)} ${"p99".padStart(7)} ${"max".padStart(7)}  max insert / select`);
  const row = (name: string, from: number, to: number) => {
    const inWindow = ops.filter((o) => o.start >= from && o.start < to);
    const lat = inWindow.map((o) => o.ms).sort((a, b) => a - b);
    const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! : NaN);
    const max = (kind: Op["kind"]) => Math.max(0, ...inWindow.filter((o) => o.kind === kind).map((o) => o.ms));
    const fmt = (x: number) => x.toFixed(1).padStart(7);
    const perSecond = Number.isFinite(to) ? ((lat.length / Math.max(1, to - from)) * 1000).toFixed(0) : "";
    out(
      `    ${name.padEnd(40)} ${String(lat.length).padStart(5)} ${perSecond.padStart(6)} ${fmt(q(0.5))} ${fmt(q(0.99))} ${fmt(lat.at(-1) ?? NaN)}  ${max("insert").toFixed(0)} / ${max("select").toFixed(0)}`,
    );
  };
  row("before (0 - 3 s)", 0, T.holdAt);
  row(`contended detach (${fmtS(contended[0])} - ${fmtS(contended[1])})`, contended[0], contended[1]);
  // Each attempt: from its start (the detach start, or the end of the previous attempt's backoff) to its lock timeout.
  const retries = events.filter((e) => e.what.startsWith("ddl lock timeout") && e.at < contended[1] + 1);
  let attemptStart = contended[0];
  retries.forEach((e, i) => {
    row(`  attempt ${i + 1} (${fmtS(attemptStart)} - ${fmtS(e.at)})`, attemptStart, e.at);
    attemptStart = e.at + Number(/"waitMs":(\d+)/.exec(e.what)?.[1] ?? 0);
  });
  if (attemptStart < contended[1]) row(`  last attempt (${fmtS(attemptStart)} - ${fmtS(contended[1])})`, attemptStart, contended[1]);
  row(`uncontended detach (${fmtS(uncontended[0])} - ${fmtS(uncontended[1])})`, uncontended[0], uncontended[1] + 1);
  row(`after (${fmtS(uncontended[1])} - end)`, uncontended[1] + 1, Infinity);
}

function fmtS(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
