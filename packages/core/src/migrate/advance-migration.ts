import { setTimeout as sleep } from "node:timers/promises";
import { readTableShape, type TableShape } from "../catalog/read-table-shape.ts";
import { findPolicy } from "../config/select-tables.ts";
import type { Config, PartitionTableSpec, TablePolicy } from "../config/schema.ts";
import type { Logger } from "../context.ts";
import type { Sql } from "../db/client.ts";
import { jobDdlExecutor, type DdlExecutor, type DdlStep } from "../db/ddl-executor.ts";
import { quoteIdent, quoteQualified } from "../db/sql-text.ts";
import { MigrationError } from "../errors.ts";
import { displayName } from "../identifier.ts";
import { planFuturePartitions } from "../plan/plan-future-partitions.ts";
import {
  insertMigration,
  readMigrationRecord,
  recordMigrationStep,
  updateMigration,
  type MigrationRecord,
  type MigrationState,
} from "../records/data-migrations.ts";
import { backfillBatchSql, nextBatchSize } from "./backfill.ts";
import { drainSql, pendingCaptureSql, type Drain } from "./capture.ts";
import { checkSource, forwardCapture, layoutOf, twinParentInfo, type PartitionTableLayout } from "./partition-table/layout.ts";
import {
  boundarySql,
  finalizeSql,
  forwardDrain,
  installForwardCaptureSql,
  prepareSql,
  reverseDrain,
  rollbackSql,
  swapSql,
} from "./partition-table/partition-table-sql.ts";
import { describeRange, verifyCopy, type VerifyResult } from "./verify.ts";
import { addCalendarDuration } from "../config/duration.ts";

/**
 * The migration engine (DESIGN rule 10): moves one migration through its states, each step
 * recorded in partkeeper.data_migration in the same transaction as the work it records, so a run
 * killed at any point is finished by the next run:
 *
 * (none) -prepare-> preparing -capture-> backfilling -batches-> backfilled -verify-> verified
 *   -swap-> swapped -finalize (after the grace period)-> finalized; swapped -rollback-> rolled-back -swap-> swapped.
 *
 * Between steps, captured changes are drained into the copy (forward) or, after the swap, into the
 * retired table (reverse). Partition-table is the first kind; its SQL lives in partition-table/.
 */

/** What an operator or a schedule asks of one migration. */
export const MIGRATE_ACTIONS = ["run", "verify", "swap", "rollback", "finalize", "pause", "resume"] as const;
export type MigrateAction = (typeof MIGRATE_ACTIONS)[number];

/** A snapshot of a running migration for a progress bar (rows, rows/s, ETA). */
export interface MigrationProgress {
  readonly id: string;
  readonly state: MigrationState;
  /** Rows backfilled so far (rows). */
  readonly rowsCopied: number;
  /** Rows up to the boundary, estimated (rows); null when unknown. */
  readonly rowsEstimate: number | null;
  /** Backfill rate over this migration's batches so far (rows/s). */
  readonly rowsPerSecond: number;
  /** Estimated time left for the backfill, ms; null when unknown. */
  readonly etaMs: number | null;
}

/** What the engine takes of a job: the database, the DDL settings, a logger, the clock and the deadline. */
export interface MigrationAccess {
  readonly sql: Sql;
  readonly config: Pick<Config, "lockTimeoutMs" | "ddlAttempts" | "tables">;
  readonly logger: Logger;
  readonly clock: () => Date;
  /** Epoch ms after which no new batch or step starts. */
  readonly deadline: number;
  readonly onProgress?: ((progress: MigrationProgress) => void) | undefined;
}

export interface AdvanceOptions {
  readonly action: MigrateAction;
  /** Plan only: print the steps and their SQL, change nothing. */
  readonly dryRun: boolean;
  /** finalize: do it before the grace period has passed. */
  readonly force?: boolean;
}

/** What one migration did in one run. */
export interface MigrationOutcome {
  readonly id: string;
  readonly kind: string;
  readonly table: string;
  readonly status: "ok" | "failed" | "paused" | "deferred";
  /** `new` when no record existed. */
  readonly stateBefore: MigrationState | "new";
  readonly stateAfter: MigrationState | "new";
  /** The steps taken (or, in a dry run, planned), with their SQL. */
  readonly steps: ReadonlyArray<DdlStep>;
  /** Rows backfilled in this run (rows). */
  readonly rowsCopied: number;
  /** Captured changes drained in this run (rows). */
  readonly changesDrained: number;
  readonly verification?: VerifyResult;
  /** What happens next, or why it failed. */
  readonly message: string;
  readonly durationMs: number;
}

/** Captured changes one drain transaction takes (rows). */
const DRAIN_LIMIT = 10_000;

/** Most captured changes the swap's locked transaction may have to drain; more are drained before it locks. */
const SWAP_DRAIN_BEFORE_LOCK = 1_000;

interface Run {
  readonly m: MigrationAccess;
  readonly spec: PartitionTableSpec;
  readonly policy: TablePolicy;
  readonly exec: DdlExecutor;
  record: MigrationRecord | null;
  rowsCopied: number;
  changesDrained: number;
  verification?: VerifyResult;
}

/** The fields of a spec that must not change once a migration is prepared. */
function structuralSpec(spec: PartitionTableSpec) {
  return { kind: spec.kind, schema: spec.table.schema, table: spec.table.name, column: spec.column };
}

function layoutOfRecord(record: MigrationRecord): PartitionTableLayout {
  return (record.spec as { layout: PartitionTableLayout }).layout;
}

/**
 * Refuses a config whose migration `id` names another table or column than the one it was prepared for.
 * @throws MigrationError naming both.
 */
function checkSpecUnchanged(spec: PartitionTableSpec, record: MigrationRecord | null): void {
  if (!record) return;
  const now = structuralSpec(spec);
  const then = record.spec as Record<string, unknown>;
  const changed = (Object.keys(now) as Array<keyof typeof now>).filter((k) => then[k] !== now[k]);
  if (changed.length) {
    const was = changed.map((k) => `${k} ${JSON.stringify(then[k])}`).join(", ");
    const is = changed.map((k) => `${k} ${JSON.stringify(now[k])}`).join(", ");
    throw new MigrationError(
      `migration ${spec.id} was prepared with ${was} and the config now says ${is}: a migration id cannot be reused with another spec; ` +
        "give the new migration its own id (and roll back or finalize the old one)",
    );
  }
}

/**
 * Advances (or, `dryRun`, plans) one migration as `options.action` asks. Never throws for the
 * migration's own failure: the outcome says `failed` with the reason, also kept in the record's
 * `last_error`.
 */
export async function advanceMigration(m: MigrationAccess, spec: PartitionTableSpec, options: AdvanceOptions): Promise<MigrationOutcome> {
  const started = Date.now();
  const exec = jobDdlExecutor({ sql: m.sql, logger: m.logger, config: m.config }, options.dryRun);
  const run: Run = { m, spec, policy: findPolicy(m.config as Config, spec.table)!, exec, record: null, rowsCopied: 0, changesDrained: 0 };
  let before: MigrationState | "new" = "new";
  const outcome = (status: MigrationOutcome["status"], message: string): MigrationOutcome => ({
    id: spec.id,
    kind: spec.kind,
    table: displayName(spec.table),
    status,
    stateBefore: before,
    stateAfter: run.record?.state ?? "new",
    steps: exec.log,
    rowsCopied: run.rowsCopied,
    changesDrained: run.changesDrained,
    ...(run.verification ? { verification: run.verification } : {}),
    message,
    durationMs: Date.now() - started,
  });
  try {
    run.record = await readMigrationRecord(m.sql, spec.id);
    before = run.record?.state ?? "new";
    checkSpecUnchanged(spec, run.record);
    if (options.dryRun) return outcome("ok", await planSteps(run, options.action));
    const message = await act(run, options);
    if (message === null) return outcome("deferred", "deadline reached: the next run continues");
    return outcome(run.record?.paused && options.action === "run" ? "paused" : "ok", message);
  } catch (error) {
    const message = (error as Error).message;
    m.logger.error("migration failed", { id: spec.id, error: message });
    if (!options.dryRun && run.record) await updateMigration(m.sql, spec.id, { lastError: message }).catch(() => {});
    return outcome("failed", message);
  }
}

/** Runs the action; returns what happens next, or null when the deadline stopped it. */
async function act(run: Run, options: AdvanceOptions): Promise<string | null> {
  const { spec } = run;
  switch (options.action) {
    case "pause":
    case "resume": {
      const record = requireRecord(run);
      const paused = options.action === "pause";
      await run.m.sql.begin(async (tx) => {
        await updateMigration(tx as unknown as Sql, spec.id, { paused });
        await recordMigrationStep(tx as unknown as Sql, spec.id, options.action);
      });
      run.record = { ...record, paused };
      return paused ? "paused: scheduled runs leave it alone (capture keeps recording changes)" : "resumed";
    }
    case "verify": {
      const record = requireRecord(run);
      if (!["backfilled", "verified", "rolled-back"].includes(record.state)) {
        throw new MigrationError(`migration ${spec.id} is ${record.state}: verify compares the copy once the backfill is done`);
      }
      if (!(await verify(run))) return null;
      return "verified: source and copy are equal";
    }
    case "swap": {
      const record = requireRecord(run);
      if (record.state === "swapped") return "already swapped";
      if (!["backfilled", "verified", "rolled-back"].includes(record.state)) {
        throw new MigrationError(`migration ${spec.id} is ${record.state}: swap needs a finished backfill (run \`migrate run\` until it is verified)`);
      }
      if (record.state !== "verified" && !(await verify(run))) return null;
      await swap(run);
      return swappedMessage(run);
    }
    case "rollback": {
      const record = requireRecord(run);
      if (record.state !== "swapped") throw new MigrationError(`migration ${spec.id} is ${record.state}: only a swapped migration can be rolled back`);
      await rollback(run);
      return `rolled back: ${displayName(spec.table)} is the original table again; the partitioned copy is kept current (swap again with \`migrate swap\`)`;
    }
    case "finalize": {
      const record = requireRecord(run);
      if (record.state === "finalized") return "already finalized";
      if (record.state !== "swapped") throw new MigrationError(`migration ${spec.id} is ${record.state}: only a swapped migration can be finalized`);
      const due = finalizeDue(run);
      if (run.m.clock() < due && !options.force) {
        throw new MigrationError(`migration ${spec.id}: its grace period runs until ${due.toISOString()}; finalize then, or now with --force (rollback is impossible afterwards)`);
      }
      await finalize(run);
      return "finalized: the retired table and the capture are dropped";
    }
    case "run":
      return advance(run);
  }
}

function requireRecord(run: Run): MigrationRecord {
  if (!run.record) throw new MigrationError(`migration ${run.spec.id} has not started yet: run \`migrate run\` first`);
  return run.record;
}

function finalizeDue(run: Run): Date {
  return addCalendarDuration(run.record!.swappedAt!, run.spec.finalizeAfter);
}

function swappedMessage(run: Run): string {
  return `swapped: ${displayName(run.spec.table)} is partitioned; rollback possible until finalize (after ${finalizeDue(run).toISOString()})`;
}

const pastDeadline = (run: Run) => Date.now() > run.m.deadline;

/** `migrate run`: every step the state allows, until done, waiting for an operator, or the deadline. */
async function advance(run: Run): Promise<string | null> {
  const { spec } = run;
  if (run.record?.paused) return "paused: `migrate resume` to continue";
  if (!run.record) await prepare(run);
  if (run.record!.state === "preparing") await installCapture(run);
  for (;;) {
    const record = run.record!;
    switch (record.state) {
      case "preparing":
        throw new Error("unreachable: capture is installed above");
      case "backfilling": {
        if (!(await backfill(run))) return null;
        continue;
      }
      case "backfilled":
        if (pastDeadline(run) || !(await verify(run))) return null;
        continue;
      case "verified":
        if (spec.swap === "auto") {
          if (pastDeadline(run)) return null;
          await swap(run);
          continue;
        }
        await drainAll(run, forwardDrain(spec.id, layoutOfRecord(record)));
        return "verified: waiting for `migrate swap` (swap is manual)";
      case "rolled-back":
        await drainAll(run, forwardDrain(spec.id, layoutOfRecord(record)));
        return "rolled back: the copy is kept current; swap again with `migrate swap`";
      case "swapped":
        await drainAll(run, reverseDrain(spec.id, layoutOfRecord(record)));
        if (run.m.clock() >= finalizeDue(run)) {
          await finalize(run);
          continue;
        }
        return swappedMessage(run);
      case "finalized":
        return "finalized: nothing to do";
    }
  }
}

// The DDL steps, shared by `run` and `migrate plan`, so a plan shows exactly what a run executes.

function prepareStep(spec: PartitionTableSpec, layout: PartitionTableLayout, shape: TableShape, policy: TablePolicy, creates: ReturnType<typeof planFuturePartitions>): DdlStep {
  return {
    description: `prepare ${spec.id}: create ${displayName(layout.twin)} with ${creates.length} partitions, and capture tables`,
    statements: prepareSql(spec.id, layout, shape, policy, creates),
    transaction: true,
  };
}

/** Its transaction also reads the boundary (boundarySql), under the triggers' lock. */
function captureStep(spec: PartitionTableSpec, layout: PartitionTableLayout): DdlStep {
  return { description: `install capture on ${displayName(spec.table)} and fix the backfill boundary`, statements: installForwardCaptureSql(spec.id, layout), transaction: true };
}

function swapStep(spec: PartitionTableSpec, layout: PartitionTableLayout, shape: TableShape): DdlStep {
  return {
    description: `swap ${displayName(spec.table)} for its partitioned copy (the source becomes ${displayName(layout.retired)})`,
    statements: swapSql(spec.id, layout, shape),
    transaction: true,
  };
}

function rollbackStep(spec: PartitionTableSpec, layout: PartitionTableLayout): DdlStep {
  return { description: `roll back: ${displayName(layout.retired)} becomes ${displayName(spec.table)} again`, statements: rollbackSql(spec.id, layout), transaction: true };
}

function finalizeStep(spec: PartitionTableSpec, layout: PartitionTableLayout): DdlStep {
  return { description: `finalize: drop ${displayName(layout.retired)} and the capture of ${spec.id}`, statements: finalizeSql(spec.id, layout), transaction: true };
}

/** Prepare, first step: checks, then the copy, its partitions and the capture tables, recorded as `preparing`. */
async function prepare(run: Run): Promise<void> {
  const { m, spec, policy } = run;
  const { shape, layout, creates } = await readPrepare(run);
  const partitions = creates.length;
  await run.exec.run(prepareStep(spec, layout, shape, policy, creates), async (tx) => {
      await insertMigration(tx, {
        id: spec.id,
        kind: spec.kind,
        spec: { ...structuralSpec(spec), layout },
        rowsEstimate: shape.rowEstimate >= 0 ? Math.round(shape.rowEstimate) : null,
        batchSize: spec.batch.initialSize,
      });
    await recordMigrationStep(tx, spec.id, "prepare", { twin: layout.twin, partitions });
  });
  run.record = await readMigrationRecord(m.sql, spec.id);
}

/** Reads and checks the source, and plans the copy's partitions (prepare and `migrate plan`). */
async function readPrepare(run: Run): Promise<{ shape: TableShape; layout: PartitionTableLayout; creates: ReturnType<typeof planFuturePartitions> }> {
  const { m, spec, policy } = run;
  const shape = await readTableShape(m.sql, spec.table);
  const column = shape?.columns.find((c) => c.name === spec.column);
  let nullKeys = 0;
  if (shape && column && !column.notNull) {
    const [row] = await m.sql.unsafe<{ n: string }[]>(
      `select count(*)::int8 as n from (select 1 from ${quoteQualified(spec.table)} where ${quoteIdent(spec.column)} is null limit 1000000) x`,
    );
    nullKeys = Number(row?.n ?? 0);
  }
  checkSource(spec, policy, shape, { nullKeys });
  const layout = layoutOf(spec, shape!);
  const [range] = await m.sql.unsafe<{ min: string | null; max: string | null }[]>(
    `select min(${quoteIdent(spec.column)})::text as min, max(${quoteIdent(spec.column)})::text as max from ${quoteQualified(spec.table)}`,
  );
  // Retention is the archive job's business after the swap: the copy gets a partition for every row.
  const { retention: _retention, ...keepAll } = policy as TablePolicy & { retention?: unknown };
  const parent = twinParentInfo(spec.table, policy, column!, shape!.columns, policy.strategy === "range-integer" ? (range?.max ?? null) : null);
  const creates = planFuturePartitions(keepAll as TablePolicy, parent, m.clock(), { coverFrom: range?.min ?? null });
  return { shape: shape!, layout, creates };
}

/** Prepare, second step: capture triggers on the source and the boundary, in one short locked transaction. */
async function installCapture(run: Run): Promise<void> {
  const { spec } = run;
  const layout = layoutOfRecord(run.record!);
  await run.exec.run(captureStep(spec, layout), async (tx) => {
    const [row] = await tx.unsafe<{ boundary: string[] }[]>(boundarySql(layout));
    const boundary = row?.boundary ?? null;
    await updateMigration(tx, spec.id, { boundary, state: boundary === null ? "backfilled" : "backfilling" });
    await recordMigrationStep(tx, spec.id, "capture", { boundary });
  });
  run.record = await readMigrationRecord(run.m.sql, spec.id);
}

/**
 * Backfill batches until the boundary (then `backfilled`) or the deadline; captured changes are
 * drained between batches so they never pile up. Returns false when the deadline stopped it.
 */
async function backfill(run: Run): Promise<boolean> {
  const { m, spec } = run;
  const layout = layoutOfRecord(run.record!);
  const batch = { source: layout.table, target: layout.twin, keys: layout.keys, columns: layout.columns };
  const drain = forwardDrain(spec.id, layout);
  for (;;) {
    if (pastDeadline(run)) return false;
    await drainOnce(run, drain, DRAIN_LIMIT);
    const record = run.record!;
    const size = record.batchSize ?? spec.batch.initialSize;
    const text = backfillBatchSql(batch, record.watermark !== null);
    const params = [...(record.watermark ?? []), ...record.boundary!, size];
    const startedMs = Date.now();
    const result = await m.sql.begin(async (tx) => {
      const [row] = await tx.unsafe<{ rows: string; inserted: string; last: string[] | null }[]>(text, params as string[]);
      const rows = Number(row!.rows);
      const ms = Date.now() - startedMs;
      const done = rows < size;
      const next = nextBatchSize(size, ms, spec.batch.targetMs, spec.batch.maxSize);
      await updateMigration(
        tx as unknown as Sql,
        spec.id,
        { ...(row!.last ? { watermark: row!.last } : {}), batchSize: next, ...(done ? { state: "backfilled" as const } : {}) },
        { rows, ms },
      );
      if (done) await recordMigrationStep(tx as unknown as Sql, spec.id, "backfilled", { rowsCopied: record.rowsCopied + rows });
      return { rows, ms, next, done, last: row!.last };
    });
    run.rowsCopied += result.rows;
    run.record = {
      ...record,
      watermark: result.last ?? record.watermark,
      batchSize: result.next,
      rowsCopied: record.rowsCopied + result.rows,
      backfillMs: record.backfillMs + result.ms,
      state: result.done ? "backfilled" : record.state,
    };
    m.onProgress?.(progressOf(run.record));
    if (result.done) return true;
    if (spec.batch.pauseMs > 0) await sleep(spec.batch.pauseMs);
  }
}

/** Progress of a record: rows, rows/s and ETA over its batches so far. */
export function progressOf(record: MigrationRecord): MigrationProgress {
  const rowsPerSecond = record.backfillMs > 0 ? (record.rowsCopied / record.backfillMs) * 1000 : 0;
  const left = record.rowsEstimate === null ? null : Math.max(0, record.rowsEstimate - record.rowsCopied);
  return {
    id: record.id,
    state: record.state,
    rowsCopied: record.rowsCopied,
    rowsEstimate: record.rowsEstimate,
    rowsPerSecond,
    etaMs: left === null || rowsPerSecond === 0 ? null : (left / rowsPerSecond) * 1000,
  };
}

/** One drain transaction (REPEATABLE READ: its three statements see the same captured rows); returns changes drained. */
async function drainOnce(run: Run, drain: Drain, limit: number): Promise<number> {
  const counts = await run.m.sql.begin("isolation level repeatable read", async (tx) => {
    const result: number[] = [];
    for (const statement of drainSql(drain, limit)) result.push((await tx.unsafe(statement)).count);
    return result;
  });
  const drained = counts[2] ?? 0;
  run.changesDrained += drained;
  return drained;
}

/** Drains until fewer than one transaction's worth is left. */
async function drainAll(run: Run, drain: Drain, limit = DRAIN_LIMIT): Promise<void> {
  while ((await drainOnce(run, drain, limit)) >= limit);
}

/**
 * Verification: drain, then compare range by range (verify.ts) from where an earlier run stopped,
 * until done or the deadline (then the position is saved and false returned). A difference is
 * recorded and thrown, the position reset, and a `verified` migration goes back to `backfilled`, so
 * nothing swaps without a verification that passes.
 * @throws MigrationError naming the first differing key ranges.
 */
async function verify(run: Run): Promise<boolean> {
  const { m, spec } = run;
  const layout = layoutOfRecord(run.record!);
  await drainAll(run, forwardDrain(spec.id, layout));
  const target = { source: layout.table, target: layout.twin, keys: layout.keys, capture: forwardCapture(spec.id, layout) };
  const result = await verifyCopy(m.sql, target, { from: run.record!.verifyWatermark, deadline: m.deadline });
  run.verification = result;
  await recordMigrationStep(m.sql, spec.id, "verify", { ok: result.ok, complete: result.complete, ranges: result.ranges, rows: result.rows, differing: result.differing, durationMs: result.durationMs });
  if (!result.ok) {
    // A copy found different is no longer verified: the next swap must verify again.
    const state = run.record!.state === "verified" ? "backfilled" : run.record!.state;
    await updateMigration(m.sql, spec.id, { state, verifiedAt: null, verifyWatermark: null });
    run.record = { ...run.record!, state, verifiedAt: null, verifyWatermark: null };
    const ranges = result.differing.map((r) => `${describeRange(r)}: source ${r.sourceRows} rows, copy ${r.targetRows}`).join("; ");
    throw new MigrationError(
      `migration ${spec.id}: verification found ${displayName(layout.twin)} different from ${displayName(layout.table)} in key ranges ${ranges}; nothing was swapped`,
    );
  }
  if (!result.complete) {
    await updateMigration(m.sql, spec.id, { verifyWatermark: result.next });
    run.record = { ...run.record!, verifyWatermark: result.next };
    return false;
  }
  const now = m.clock();
  const state = run.record!.state === "backfilled" ? "verified" : run.record!.state;
  await updateMigration(m.sql, spec.id, { state, verifiedAt: now, verifyWatermark: null, lastError: null });
  run.record = { ...run.record!, state, verifiedAt: now, verifyWatermark: null, lastError: null };
  return true;
}

/** The swap: drain most changes without a lock, then the one locked transaction (swapSql). */
async function swap(run: Run): Promise<void> {
  const { m, spec, policy } = run;
  const layout = layoutOfRecord(run.record!);
  const shape = await readTableShape(m.sql, spec.table);
  // Foreign keys or views added since prepare would follow the retired table: refuse them by name.
  checkSource(spec, policy, shape, null);
  await drainAll(run, forwardDrain(spec.id, layout), SWAP_DRAIN_BEFORE_LOCK);
  const now = m.clock();
  const startedMs = Date.now();
  await run.exec.run(swapStep(spec, layout, shape!), async (tx) => {
    await updateMigration(tx, spec.id, { state: "swapped", swappedAt: now, lastError: null });
    await recordMigrationStep(tx, spec.id, "swap", { durationMs: Date.now() - startedMs });
  });
  run.record = { ...run.record!, state: "swapped", swappedAt: now };
}

async function rollback(run: Run): Promise<void> {
  const { spec } = run;
  const layout = layoutOfRecord(run.record!);
  await drainAll(run, reverseDrain(spec.id, layout), SWAP_DRAIN_BEFORE_LOCK);
  await run.exec.run(rollbackStep(spec, layout), async (tx) => {
    await updateMigration(tx, spec.id, { state: "rolled-back", swappedAt: null, verifiedAt: null });
    await recordMigrationStep(tx, spec.id, "rollback");
  });
  run.record = { ...run.record!, state: "rolled-back", swappedAt: null, verifiedAt: null };
}

async function finalize(run: Run): Promise<void> {
  const { m, spec } = run;
  const layout = layoutOfRecord(run.record!);
  const now = m.clock();
  await run.exec.run(finalizeStep(spec, layout), async (tx) => {
    await updateMigration(tx, spec.id, { state: "finalized", finalizedAt: now });
    await recordMigrationStep(tx, spec.id, "finalize");
  });
  run.record = { ...run.record!, state: "finalized", finalizedAt: now };
}

/** Captured changes not yet drained, per direction in use; null when the capture table does not exist. */
export async function pendingChanges(sql: Sql, record: MigrationRecord): Promise<number | null> {
  if (record.state === "finalized" || record.state === "preparing") return null;
  const direction = record.state === "swapped" ? "reverse" : "forward";
  const [row] = await sql.unsafe<{ pending: string }[]>(pendingCaptureSql({ id: record.id, direction }));
  return Number(row?.pending ?? 0);
}

/**
 * `migrate plan`: the steps `run` (or the action) would take from the current state, with their SQL,
 * recorded in the dry-run executor; nothing is changed.
 */
async function planSteps(run: Run, action: MigrateAction): Promise<string> {
  const { spec, exec } = run;
  const record = run.record;
  const note = (description: string, plan: string[]) => exec.perform({ description, plan, work: async () => null });
  // The boundary is read in the capture step's transaction, by the step's own code, not a statement of it.
  const capture = async (layout: PartitionTableLayout) => {
    const step = captureStep(spec, layout);
    await exec.run({ ...step, statements: [...step.statements, `-- then: ${boundarySql(layout)}`] });
  };
  if (!record) {
    const { shape, layout, creates } = await readPrepare(run);
    await exec.run(prepareStep(spec, layout, shape, run.policy, creates));
    await capture(layout);
    const rows = shape.rowEstimate >= 0 ? `about ${Math.round(shape.rowEstimate).toLocaleString("en-US")} rows` : "every row";
    await note(`backfill ${rows} in batches of about ${spec.batch.targetMs} ms`, [`-- ${backfillBatchSql({ source: layout.table, target: layout.twin, keys: layout.keys, columns: layout.columns }, true).split("\n").join("\n-- ")}`]);
    await note("verify source and copy range by range", [`-- count and md5 digest per ${layout.keys.map((k) => k.name).join(", ")} range, both sides, one snapshot each`]);
    await exec.run(swapStep(spec, layout, shape));
    return action === "run" ? `would prepare and backfill, verify${spec.swap === "auto" ? " and swap" : ""}` : `not started: \`migrate ${action}\` needs \`migrate run\` first`;
  }
  const layout = layoutOfRecord(record);
  switch (record.state) {
    case "preparing":
      await capture(layout);
      return "would install capture, then backfill";
    case "backfilling":
    case "backfilled":
    case "verified":
    case "rolled-back": {
      const shape = await readTableShape(run.m.sql, spec.table);
      if (record.state === "backfilling") await note(`backfill from ${record.watermark?.join(",") ?? "the start"} to ${record.boundary?.join(",")}`, []);
      if (record.state !== "verified") await note("verify source and copy range by range", []);
      if (shape) await exec.run(swapStep(spec, layout, shape));
      return `${record.state}; would ${record.state === "verified" && spec.swap === "manual" ? "wait for `migrate swap`" : "continue"}`;
    }
    case "swapped":
      await exec.run(rollbackStep(spec, layout));
      await exec.run(finalizeStep(spec, layout));
      return swappedMessage(run);
    case "finalized":
      return "finalized: nothing to do";
  }
}
