/**
 * The recurring move (kind `move`) against a limit measured in the same run (never a timed test).
 *
 *   npx tsx bench/move.ts                              # 450,000 todos (about 200,000 to move), 1 round
 *   npx tsx bench/move.ts -- --rows 100000 --rounds 3
 *
 * Starts an embedded PostgreSQL, seeds one database with the todo-archive example
 * (examples/todo-archive: `todo` hash-partitioned 8 ways, seedTodos: about 45 % of the rows match
 * `completed and completed_at < now() - interval '30 days'`), creates the archive's monthly
 * partitions there (the step `migrate plan` shows), and copies it (CREATE DATABASE ... TEMPLATE)
 * for each measurement, so every one starts from the same tables. Then, per round:
 *   limit       one statement moving every matching row:
 *               `with moved as (delete from todo where <cond> returning *) insert into todo_archive select * from moved`;
 *   batch N     runMigrations (`migrate run`, one pass) with batchSize N, for each of --batch-sizes;
 * in an order that rotates every round (medians printed). One more copy measures what the
 * application sees: --writers connections loop autocommit single-row INSERTs into `todo`, each
 * one every --write-interval-ms at most, 5 s before the move (after 1 s of warm-up), then during
 * the move (batch size: the first of --batch-sizes), then 1 s after; latencies are grouped by the
 * phase in which each write started (p50 / p99 / max).
 */
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient, openJobContext, parseConfig, runMigrations, silentLogger, type Config, type Sql } from "@partkeeper/core";
import example from "../examples/todo-archive/partkeeper.config.ts";
import { createTodoSchema, seedTodos } from "../examples/todo-archive/seed.ts";
import { latencies, startWriters } from "./app-writers.ts";
import { startBenchServices } from "./local-services.ts";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "450000" },
    rounds: { type: "string", default: "1" },
    "batch-sizes": { type: "string", default: "1000,10000" },
    writers: { type: "string", default: "4" },
    "write-interval-ms": { type: "string", default: "5" },
  },
});
const rows = Number(args.rows);
const rounds = Number(args.rounds);
const batchSizes = args["batch-sizes"].split(",").map(Number);
const writers = Number(args.writers);
const writeIntervalMs = Number(args["write-interval-ms"]);
const WARM_UP_MS = 1000;
const BEFORE_MS = 5000;
const move = example.migrations[0]!;
const MATCH = move.where;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (n: number, ms: number) => `${Math.round(n / (ms / 1000)).toLocaleString("en-US")} rows/s`;
const out = (line = "") => process.stdout.write(`${line}\n`);

const services = await startBenchServices("move");
const { pg, releasers } = services;
const databaseUrl = (name: string) => Object.assign(new URL(pg.url), { pathname: `/${name}` }).toString();
/** The example's config (no archive: only the move runs) with the move's batch size `batchSize`. */
const configFor = (batchSize: number): Config =>
  parseConfig({ ...example, archive: undefined, tables: example.tables.map((t) => (t.strategy === "range-time" ? { ...t, archive: { enabled: false } } : t)), migrations: [{ ...move, batchSize }] });

/** A database copied from the seeded one, dropped by `drop()`. */
async function copyOfSeed(name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  await admin.unsafe(`create database ${name} template seed strategy file_copy`);
  return { url: databaseUrl(name), drop: async () => void (await admin.unsafe(`drop database ${name} with (force)`)) };
}

/** The limit: every matching row in one statement. Returns rows and ms. */
async function limitRound(name: string): Promise<{ rows: number; ms: number }> {
  const db = await copyOfSeed(name);
  const sql = createClient(db.url, { max: 1 });
  try {
    const started = performance.now();
    const result = await sql.unsafe(`with moved as (delete from todo where ${MATCH} returning *) insert into todo_archive select * from moved`);
    return { rows: result.count, ms: performance.now() - started };
  } finally {
    await sql.end({ timeout: 5 });
    await db.drop();
  }
}

/** One pass of the move with batches of `batchSize` on `url`. Returns rows, ms and batches. */
async function movePass(url: string, batchSize: number): Promise<{ rows: number; ms: number; batches: number }> {
  const { ctx, close } = await openJobContext({ databaseUrl: url, env: {}, config: configFor(batchSize), logger: silentLogger });
  try {
    let batches = 0;
    const started = performance.now();
    const summary = await runMigrations(ctx, { action: "run", dryRun: false, onProgress: () => void batches++ });
    const ms = performance.now() - started;
    const outcome = summary.migrations[0]!;
    if (outcome.status !== "ok") throw new Error(`move failed: ${outcome.message}`);
    return { rows: outcome.rowsCopied, ms, batches };
  } finally {
    await close();
  }
}

async function moveRound(name: string, batchSize: number) {
  const db = await copyOfSeed(name);
  try {
    return await movePass(db.url, batchSize);
  } finally {
    await db.drop();
  }
}

/** The application: each connection a single-row INSERT into todo, autocommit. */
const writeTodo = (app: Sql, w: number) => app`insert into todo (list_id, title) values (${w + 1}, 'bench')`;

const admin = createClient(pg.url, { max: 1 });
releasers.push(() => admin.end({ timeout: 5 }));
try {
  const [{ version } = { version: "?" }] = await admin<Array<{ version: string }>>`select current_setting('server_version') as version`;
  out(`PostgreSQL ${version}; ${rows.toLocaleString("en-US")} todos; ${rounds} round(s); seeding...`);
  await admin`create database seed`;
  const seed = createClient(databaseUrl("seed"), { max: 1 });
  await createTodoSchema(seed);
  const seeded = await seedTodos(seed, rows);
  await seed.end({ timeout: 5 });
  // The archive's partitions, as the move's first step would create them: not part of any measurement.
  {
    const { ctx, close } = await openJobContext({ databaseUrl: databaseUrl("seed"), env: {}, config: configFor(1000), logger: silentLogger });
    const plan = await runMigrations(ctx, { action: "run", dryRun: true });
    const create = plan.migrations[0]!.steps.find((s) => s.description.startsWith("create"));
    await ctx.sql.begin(async (tx) => {
      for (const statement of create?.statements ?? []) await tx.unsafe(statement);
    });
    await ctx.sql`vacuum analyze todo`;
    await close();
  }
  out(`todo: ${seeded.matching.toLocaleString("en-US")} of ${seeded.rows.toLocaleString("en-US")} rows match \`${MATCH}\``);

  const limits: number[] = [];
  const passes = new Map<number, Array<{ rows: number; ms: number; batches: number }>>(batchSizes.map((b) => [b, []]));
  const kinds: Array<"limit" | number> = ["limit", ...batchSizes];
  for (let r = 0; r < rounds; r++) {
    // Rotate the order, so none profits from the others' warm-up every time.
    const order = kinds.map((_, i) => kinds[(i + r) % kinds.length]!);
    const parts: string[] = [];
    for (const which of order) {
      if (which === "limit") {
        const l = await limitRound(`limit_${r}`);
        limits.push(l.ms);
        parts.push(`limit ${seconds(l.ms)} (${l.rows} rows)`);
      } else {
        const m = await moveRound(`move_${which}_${r}`, which);
        passes.get(which)!.push(m);
        parts.push(`batch ${which}: ${seconds(m.ms)} (${m.rows} rows, ${m.batches} batches)`);
      }
    }
    out(`round ${r + 1}: ${parts.join("; ")}`);
  }
  const limitMs = median(limits);
  const n = seeded.matching;
  const line = (name: string, ms: number) => `${name.padEnd(66)} ${seconds(ms).padStart(8)}  ${rate(n, ms).padStart(16)}  ${(limitMs / ms).toFixed(2)}x of limit`;
  out();
  out(`medians of ${rounds}:`);
  out(line("limit: with moved as (delete ... returning *) insert ... select", limitMs));
  for (const b of batchSizes) out(line(`move, batchSize ${b} (one pass: runMigrations)`, median(passes.get(b)!.map((m) => m.ms))));

  // The application's view: single-row inserts before, during and after a pass.
  const latency = await copyOfSeed("writes");
  const app = startWriters(latency.url, { writers, intervalMs: writeIntervalMs, write: writeTodo });
  let pass: { rows: number; ms: number; batches: number };
  await sleep(WARM_UP_MS);
  const t0 = performance.now();
  let moveStart = 0;
  let moveEnd = 0;
  try {
    await sleep(BEFORE_MS);
    moveStart = performance.now();
    pass = await movePass(latency.url, batchSizes[0]!);
    moveEnd = performance.now();
    await sleep(1000);
  } finally {
    await app.stop();
    await latency.drop();
  }
  const end = performance.now();
  out();
  out(
    `with ${writers} writers (one INSERT per ${writeIntervalMs} ms each at most): move batchSize ${batchSizes[0]} ${seconds(pass!.ms)} ` +
      `(${rate(pass!.rows, pass!.ms)}, ${pass!.batches} batches); ${app.failed()} writes failed`,
  );
  out(`  ${"writes started".padEnd(20)} ${"writes".padStart(7)} ${"/s".padStart(6)} ${"p50 ms".padStart(7)} ${"p99 ms".padStart(7)} ${"max ms".padStart(7)}`);
  const before = latencies(app.writes, t0, t0 + BEFORE_MS);
  const row = (name: string, from: number, to: number) => {
    const l = latencies(app.writes, from, to);
    const ratio = name === "before" ? "" : `  p99 ${(l.p99 / before.p99).toFixed(2)}x of before`;
    out(`  ${name.padEnd(20)} ${String(l.count).padStart(7)} ${l.perSecond.toFixed(0).padStart(6)} ${l.p50.toFixed(2).padStart(7)} ${l.p99.toFixed(2).padStart(7)} ${l.max.toFixed(1).padStart(7)}${ratio}`);
  };
  row("before", t0, t0 + BEFORE_MS);
  row("during the move", moveStart, moveEnd);
  row("after", moveEnd, end);
} finally {
  await services.release();
}

