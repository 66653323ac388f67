/**
 * The partition-table migration against a limit measured in the same run (never a timed test).
 *
 *   npm run bench:migrate                              # 1,000,000 rows, 3 rounds
 *   npm run bench:migrate -- --rows 200000 --rounds 1
 *
 * Starts an embedded PostgreSQL, seeds one database with the demo's unpartitioned login_events
 * (bigint identity PK, user_id, created_at, inet, text, boolean; an index on (user_id, created_at)
 * and one on created_at; 12 months up to now) and copies it (CREATE DATABASE ... TEMPLATE) for each
 * measurement, so every one starts from the same table. Then:
 *   limit     the copy the engine's prepare would create (its own statements, taken from
 *             `migrate plan`: same partitions, primary key and indexes), filled by one
 *             `INSERT INTO copy OVERRIDING SYSTEM VALUE SELECT * FROM login_events`;
 *   backfill  runMigrations (swap manual) from the start to the last backfill batch: prepare,
 *             capture + boundary, keyset batches with capture drains between them; then verify;
 *   swap      `migrate swap`: its locked transaction (BEGIN to COMMIT, from the DDL executor's log)
 *             and the step's recorded durationMs;
 * limit and backfill alternate, `--rounds` times (medians printed). One more round measures what
 * the application sees: `--writers` connections loop autocommit single-row writes (INSERT of a new
 * row, UPDATE of a random existing row by id), each connection one write every `--write-interval-ms`
 * at most, first for 5 s before the migration (after 1 s of warm-up), then during the whole migration and its swap;
 * latencies are grouped by the phase in which each write started (p50 / p99 / max).
 */
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient, openJobContext, parseConfig, runMigrations, type Logger, type MigrateSummary, type Sql } from "@partkeeper/core";
import { seedLoginEvents } from "../packages/cli/src/demo/seed.ts";
import { latencies, startWriters } from "./app-writers.ts";
import { startBenchServices } from "./local-services.ts";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    rounds: { type: "string", default: "3" },
    writers: { type: "string", default: "4" },
    "write-interval-ms": { type: "string", default: "5" },
  },
});
const rows = Number(args.rows);
const rounds = Number(args.rounds);
const writers = Number(args.writers);
const writeIntervalMs = Number(args["write-interval-ms"]);
const MIGRATION = "partition-login-events";
const WARM_UP_MS = 1000;
const BEFORE_MS = 5000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (ms: number) => `${Math.round(rows / (ms / 1000)).toLocaleString("en-US")} rows/s`;
const out = (line = "") => process.stdout.write(`${line}\n`);

const services = await startBenchServices("migrate");
const { pg, releasers } = services;
const databaseUrl = (name: string) => Object.assign(new URL(pg.url), { pathname: `/${name}` }).toString();
const config = parseConfig({
  tables: [{ table: "login_events", strategy: "range-time", interval: "month", premake: 2 }],
  migrations: [{ id: MIGRATION, kind: "partition-table", table: "login_events", column: "created_at", swap: "manual" }],
});

/** A database copied from the seeded one, dropped by `drop()`. */
async function copyOfSeed(name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  await admin.unsafe(`create database ${name} template seed strategy file_copy`);
  return { url: databaseUrl(name), drop: async () => void (await admin.unsafe(`drop database ${name} with (force)`)) };
}

/** A job context on `url` whose logger stamps each DDL step with performance.now() when it is applied. */
async function benchContext(url: string) {
  const applied: Array<{ at: number; step: string; durationMs: number }> = [];
  const logger: Logger = {
    debug() {},
    info(message, fields) {
      if (message === "ddl applied") applied.push({ at: performance.now(), step: String(fields?.step), durationMs: Number(fields?.durationMs) });
    },
    warn() {},
    error() {},
  };
  const { ctx, close } = await openJobContext({ databaseUrl: url, env: {}, config, logger });
  return { ctx, close, applied };
}

function checkOk(summary: MigrateSummary, what: string): void {
  if (!summary.ok) throw new Error(`${what} failed: ${summary.migrations.map((m) => m.message).join("; ")}`);
}

/** Limit: the engine's own prepare statements, then one INSERT ... SELECT of the whole table. */
async function limitRound(name: string): Promise<number> {
  const db = await copyOfSeed(name);
  const { ctx, close } = await benchContext(db.url);
  try {
    const plan = await runMigrations(ctx, { action: "run", dryRun: true });
    const prepare = plan.migrations[0]!.steps.find((s) => s.description.startsWith("prepare"))!;
    // The copy, its primary key, indexes and partitions; not the capture tables (partkeeper's schema).
    await ctx.sql.begin(async (tx) => {
      for (const statement of prepare.statements.filter((s) => s.includes('"login_events_partitioned"'))) await tx.unsafe(statement);
    });
    const started = performance.now();
    await ctx.sql.unsafe("insert into login_events_partitioned overriding system value select * from login_events");
    return performance.now() - started;
  } finally {
    await close();
    await db.drop();
  }
}

interface MigrationTimes {
  /** runMigrations start to the last backfill batch (prepare, capture, batches, drains). */
  readonly prepareBackfillMs: number;
  /** Capture installed to the last batch. */
  readonly backfillMs: number;
  /** Sum of the batches' own durations (the record's backfill_ms). */
  readonly batchesMs: number;
  readonly batches: number;
  readonly lastBatchSize: number;
  /** Last batch to the end of the run: drains + verification. */
  readonly verifyWallMs: number;
  readonly verifyMs: number;
  /** The swap call, its locked transaction (BEGIN to COMMIT) and the step's recorded durationMs. */
  readonly swapWallMs: number;
  readonly swapTransactionMs: number;
  readonly swapRecordedMs: number;
  readonly changesDrained: number;
  /** performance.now() marks of the phases, for grouping writes. */
  readonly marks: { start: number; captured: number; backfilled: number; verified: number; swapStart: number; swapped: number };
}

/** The migration on a fresh copy: run (prepare .. verify, swap manual), then swap. */
async function migrationRound(sql: Sql, ctx: Awaited<ReturnType<typeof benchContext>>): Promise<MigrationTimes> {
  let batches = 0;
  let backfilled = 0;
  const start = performance.now();
  const run = await runMigrations(ctx.ctx, {
    action: "run",
    dryRun: false,
    onProgress: () => {
      batches++;
      backfilled = performance.now();
    },
  });
  const verified = performance.now();
  checkOk(run, "migrate run");
  const swapStart = performance.now();
  const swap = await runMigrations(ctx.ctx, { action: "swap", id: MIGRATION, dryRun: false });
  const swapped = performance.now();
  checkOk(swap, "migrate swap");
  const [record] = await sql<Array<{ backfillMs: number; batchSize: number }>>`
    select backfill_ms::float8 as "backfillMs", batch_size as "batchSize" from partkeeper.data_migration where id = ${MIGRATION}`;
  const [step] = await sql<Array<{ durationMs: number }>>`
    select (detail->>'durationMs')::float8 as "durationMs" from partkeeper.data_migration_step where migration_id = ${MIGRATION} and step = 'swap'`;
  const captured = ctx.applied.find((a) => a.step.startsWith("install capture"))!.at;
  return {
    prepareBackfillMs: backfilled - start,
    backfillMs: backfilled - captured,
    batchesMs: record!.backfillMs,
    batches,
    lastBatchSize: record!.batchSize,
    verifyWallMs: verified - backfilled,
    verifyMs: run.migrations[0]!.verification!.durationMs,
    swapWallMs: swapped - swapStart,
    swapTransactionMs: ctx.applied.find((a) => a.step.startsWith("swap"))!.durationMs,
    swapRecordedMs: step!.durationMs,
    changesDrained: run.migrations[0]!.changesDrained + swap.migrations[0]!.changesDrained,
    marks: { start, captured, backfilled, verified, swapStart, swapped },
  };
}

async function partkeeperRound(name: string): Promise<MigrationTimes> {
  const db = await copyOfSeed(name);
  const ctx = await benchContext(db.url);
  try {
    return await migrationRound(ctx.ctx.sql, ctx);
  } finally {
    await ctx.close();
    await db.drop();
  }
}

/**
 * The application: each connection an INSERT or an UPDATE by a random id in turn, autocommit.
 */
const writeLoginEvent = (app: Sql, w: number, i: number) =>
  i % 2 === 0
    ? app`insert into login_events (user_id, created_at, ip, user_agent, success) values (${w + 1}, now(), '10.9.9.9', 'bench', true)`
    : app`update login_events set success = not success, user_agent = 'bench' where id = ${1 + Math.floor(Math.random() * rows)}`;

const admin = createClient(pg.url, { max: 1 });
releasers.push(() => admin.end({ timeout: 5 }));
try {
  const [{ version } = { version: "?" }] = await admin<Array<{ version: string }>>`select current_setting('server_version') as version`;
  out(`PostgreSQL ${version}; ${rows.toLocaleString("en-US")} rows; ${rounds} round(s); seeding...`);
  await admin`create database seed`;
  const seed = createClient(databaseUrl("seed"), { max: 1 });
  await seed.begin((tx) => seedLoginEvents(tx as unknown as Sql, rows));
  await seed`vacuum analyze login_events`;
  const [size] = await seed<Array<{ bytes: number }>>`select pg_total_relation_size('login_events')::float8 as bytes`;
  await seed.end({ timeout: 5 });
  out(`login_events: ${(size!.bytes / 1024 / 1024).toFixed(1)} MB with indexes`);

  const limits: number[] = [];
  const runs: MigrationTimes[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first, so neither profits from the other's warm-up.
    const order = r % 2 === 0 ? (["limit", "partkeeper"] as const) : (["partkeeper", "limit"] as const);
    for (const which of order) {
      if (which === "limit") limits.push(await limitRound(`limit_${r}`));
      else runs.push(await partkeeperRound(`partkeeper_${r}`));
    }
    const m = runs.at(-1)!;
    out(
      `round ${r + 1}: limit ${seconds(limits.at(-1)!)}; prepare+backfill ${seconds(m.prepareBackfillMs)} = ${(limits.at(-1)! / m.prepareBackfillMs).toFixed(2)}x (backfill ${seconds(m.backfillMs)}, ` +
        `${m.batches} batches summing ${seconds(m.batchesMs)}, last batch size ${m.lastBatchSize}); verify ${seconds(m.verifyMs)}; ` +
        `swap ${seconds(m.swapWallMs)} (locked transaction ${m.swapTransactionMs} ms, recorded ${m.swapRecordedMs} ms)`,
    );
  }

  // The application's view: writes before, during the backfill, verification and swap.
  const latency = await copyOfSeed("writes");
  const ctx = await benchContext(latency.url);
  const app = startWriters(latency.url, { writers, intervalMs: writeIntervalMs, write: writeLoginEvent });
  let withWriters: MigrationTimes;
  // Connections open and statements get prepared in the first writes: not part of "before".
  await sleep(WARM_UP_MS);
  const t0 = performance.now();
  try {
    await sleep(BEFORE_MS);
    withWriters = await migrationRound(ctx.ctx.sql, ctx);
    await sleep(1000);
  } finally {
    await app.stop();
    await ctx.close();
    await latency.drop();
  }
  const end = performance.now();

  const limitMs = median(limits);
  const pick = (f: (m: MigrationTimes) => number) => median(runs.map(f));
  const prepareBackfillMs = pick((m) => m.prepareBackfillMs);
  const backfillMs = pick((m) => m.backfillMs);
  const line = (name: string, ms: number) => `${name.padEnd(58)} ${seconds(ms).padStart(8)}  ${rate(ms).padStart(16)}  ${(limitMs / ms).toFixed(2)}x of limit`;
  out();
  out(`medians of ${rounds}:`);
  out(line("limit: INSERT INTO copy SELECT * FROM source", limitMs));
  out(line("partkeeper: prepare + capture + backfill", prepareBackfillMs));
  out(line("partkeeper: backfill (capture installed to last batch)", backfillMs));
  const ratios = runs.map((m, i) => limits[i]! / m.prepareBackfillMs);
  out(`${"prepare + backfill, ratio to limit per round".padEnd(58)} ${ratios.map((x) => x.toFixed(2)).join(", ")}; median ${median(ratios).toFixed(2)}`);
  out(`${"partkeeper: sum of batch durations (record's backfill_ms)".padEnd(58)} ${seconds(pick((m) => m.batchesMs)).padStart(8)}`);
  out(`${"verify (verification's durationMs)".padEnd(58)} ${seconds(pick((m) => m.verifyMs)).padStart(8)}`);
  out(`${"swap: migrate swap call".padEnd(58)} ${seconds(pick((m) => m.swapWallMs)).padStart(8)}`);
  out(`${"swap: locked transaction, BEGIN to COMMIT".padEnd(58)} ${`${pick((m) => m.swapTransactionMs)} ms`.padStart(8)}`);

  const w = withWriters!;
  out();
  out(
    `with ${writers} writers (one write per ${writeIntervalMs} ms each at most): backfill ${seconds(w.backfillMs)} (${rate(w.backfillMs)}), ` +
      `${w.changesDrained.toLocaleString("en-US")} captured changes drained, verify ${seconds(w.verifyMs)}, ` +
      `swap locked transaction ${w.swapTransactionMs} ms; ${app.failed()} writes failed`,
  );
  out(`  ${"writes started".padEnd(30)} ${"writes".padStart(7)} ${"/s".padStart(6)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)} ${"max ms".padStart(7)}`);
  const before = latencies(app.writes, t0, t0 + BEFORE_MS);
  const row = (name: string, from: number, to: number) => {
    const l = latencies(app.writes, from, to);
    const ratio = name === "before" ? "" : `  p99 ${(l.p99 / before.p99).toFixed(2)}x of before`;
    out(`  ${name.padEnd(30)} ${String(l.count).padStart(7)} ${l.perSecond.toFixed(0).padStart(6)} ${l.p50.toFixed(2).padStart(7)} ${l.p99.toFixed(2).padStart(7)} ${l.max.toFixed(1).padStart(7)}${ratio}`);
  };
  row("before", t0, t0 + BEFORE_MS);
  row("prepare + capture", w.marks.start, w.marks.captured);
  row("backfill", w.marks.captured, w.marks.backfilled);
  row("verify", w.marks.backfilled, w.marks.verified);
  row("swap", w.marks.swapStart, w.marks.swapped);
  row("after", w.marks.swapped, end);
} finally {
  await services.release();
}
