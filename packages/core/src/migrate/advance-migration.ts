import { setTimeout as sleep } from "node:timers/promises";
import { findPolicy } from "../config/select-tables.ts";
import type { Config, MigrationSpec } from "../config/schema.ts";
import type { Logger } from "../context.ts";
import type { Sql } from "../db/client.ts";
import { jobDdlExecutor, type DdlExecutor, type DdlStep } from "../db/ddl-executor.ts";
import { MigrationError } from "../errors.ts";
import { displayName } from "../identifier.ts";
import {
  insertMigration,
  readMigrationRecord,
  recordMigrationStep,
  updateMigration,
  type MigrationRecord,
  type MigrationState,
} from "../records/data-migrations.ts";
import { nextBatchSize } from "./backfill.ts";
import type { CaptureDirection } from "./capture.ts";
import type { MigrationKind, PreparedMigration } from "./migration-kind.ts";
import { partitionTableKind } from "./partition-table/partition-table-kind.ts";
import { transformKind } from "./transform/transform-kind.ts";
import type { VerifyResult } from "./verify.ts";
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

/** A migration spec of a kind the engine advances (recurring moves have their own loop). */
export type EngineSpec = Exclude<MigrationSpec, { kind: "move" }>;

interface Run {
  readonly m: MigrationAccess;
  readonly spec: EngineSpec;
  readonly kind: MigrationKind;
  readonly exec: DdlExecutor;
  record: MigrationRecord | null;
  rowsCopied: number;
  changesDrained: number;
  /** Batches run in this run (the first of a run may be checked more). */
  batches: number;
  verification?: VerifyResult;
}

/** The kind of a spec. */
function kindOf(m: MigrationAccess, spec: EngineSpec): MigrationKind {
  switch (spec.kind) {
    case "partition-table":
      return partitionTableKind(spec, findPolicy(m.config as Config, spec.table)!);
    case "transform":
      return transformKind(spec, m.config as Config);
  }
}

/**
 * Refuses a config whose migration `id` names another table or column than the one it was prepared for.
 * @throws MigrationError naming both.
 */
function checkSpecUnchanged(id: string, now: Readonly<Record<string, unknown>>, record: MigrationRecord | null): void {
  if (!record) return;
  const then = record.spec;
  const changed = Object.keys(now).filter((k) => JSON.stringify(then[k]) !== JSON.stringify(now[k]));
  if (changed.length) {
    const was = changed.map((k) => `${k} ${JSON.stringify(then[k])}`).join(", ");
    const is = changed.map((k) => `${k} ${JSON.stringify(now[k])}`).join(", ");
    throw new MigrationError(
      `migration ${id} was prepared with ${was} and the config now says ${is}: a migration id cannot be reused with another spec; ` +
        "give the new migration its own id (and roll back or finalize the old one)",
    );
  }
}

/** An outcome of `spec` from what a run did; `started` is its Date.now() at the start. */
export function migrationOutcome(
  spec: Pick<MigrationSpec, "id" | "kind" | "table">,
  started: number,
  fields: Omit<MigrationOutcome, "id" | "kind" | "table" | "durationMs">,
): MigrationOutcome {
  return { id: spec.id, kind: spec.kind, table: displayName(spec.table), ...fields, durationMs: Date.now() - started };
}

/**
 * Advances (or, `dryRun`, plans) one migration as `options.action` asks. Never throws for the
 * migration's own failure: the outcome says `failed` with the reason, also kept in the record's
 * `last_error`.
 */
export async function advanceMigration(m: MigrationAccess, spec: EngineSpec, options: AdvanceOptions): Promise<MigrationOutcome> {
  const started = Date.now();
  const exec = jobDdlExecutor({ sql: m.sql, logger: m.logger, config: m.config }, options.dryRun);
  const run: Run = { m, spec, kind: kindOf(m, spec), exec, record: null, rowsCopied: 0, changesDrained: 0, batches: 0 };
  let before: MigrationState | "new" = "new";
  const outcome = (status: MigrationOutcome["status"], message: string): MigrationOutcome =>
    migrationOutcome(spec, started, {
      status,
      stateBefore: before,
      stateAfter: run.record?.state ?? "new",
      steps: exec.log,
      rowsCopied: run.rowsCopied,
      changesDrained: run.changesDrained,
      ...(run.verification ? { verification: run.verification } : {}),
      message,
    });
  try {
    run.record = await readMigrationRecord(m.sql, spec.id);
    before = run.record?.state ?? "new";
    checkSpecUnchanged(spec.id, run.kind.structural, run.record);
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
      return "verified: sources and targets are equal";
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
      return `rolled back: ${run.kind.words.rolledBack}`;
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
      return `finalized: ${run.kind.words.finalized}`;
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
  return `swapped: ${run.kind.words.swapped}; rollback possible until finalize (after ${finalizeDue(run).toISOString()})`;
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
      case "recurring":
        throw new Error(`unreachable: state ${record.state} after capture`);
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
        await drainAll(run, "forward");
        return "verified: waiting for `migrate swap` (swap is manual)";
      case "rolled-back":
        await drainAll(run, "forward");
        return "rolled back: the targets are kept current; swap again with `migrate swap`";
      case "swapped":
        if (run.kind.hasReverse(record)) await drainAll(run, "reverse");
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

/** Prepare: the kind's checks, then its first step, recorded as `preparing`. */
async function prepare(run: Run): Promise<void> {
  const { m, spec } = run;
  const prepared = await run.kind.prepare(m.sql, m.clock());
  try {
    await run.exec.run(prepared.step, async (tx) => {
      await insertMigration(tx, {
        id: spec.id,
        kind: spec.kind,
        spec: { ...run.kind.structural, layout: prepared.layout },
        rowsEstimate: prepared.rowsEstimate,
        batchSize: spec.batch.initialSize,
      });
      await recordMigrationStep(tx, spec.id, "prepare", prepared.detail);
    });
  } catch (error) {
    // Postgres checked the spec's SQL (a transform SQL function, a capture mapping) against the tables: say where the error came from.
    if (error instanceof MigrationError || !(error as { code?: string }).code) throw error;
    throw new MigrationError(`migration ${spec.id}: prepare failed and created nothing: ${(error as Error).message}`, { cause: error });
  }
  run.record = await readMigrationRecord(m.sql, spec.id);
}

/** Prepare, last steps: what must precede capture, then the capture and the boundary in one short locked transaction. */
async function installCapture(run: Run): Promise<void> {
  const { spec } = run;
  for (const step of await run.kind.beforeCapture(run.m.sql, run.record!, run.m.clock())) await run.exec.run(step);
  await run.exec.run(run.kind.captureStep(run.record!), async (tx) => {
    const [row] = await tx.unsafe<{ boundary: string[] }[]>(run.kind.boundarySql(run.record!));
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
  for (;;) {
    if (pastDeadline(run)) return false;
    await drainOnce(run, "forward", DRAIN_LIMIT);
    const record = run.record!;
    const size = record.batchSize ?? spec.batch.initialSize;
    const startedMs = Date.now();
    // One snapshot per batch: what a batch reads twice (the transform's idempotency check) must not move under it.
    const result = await m.sql.begin("isolation level repeatable read", async (tx) => {
      const { rows, last } = await run.kind.batch(tx as unknown as Sql, record, size, run.batches === 0);
      const ms = Date.now() - startedMs;
      const done = rows < size;
      const next = nextBatchSize(size, ms, spec.batch.targetMs, spec.batch.maxSize);
      await updateMigration(
        tx as unknown as Sql,
        spec.id,
        { ...(last ? { watermark: last } : {}), batchSize: next, ...(done ? { state: "backfilled" as const } : {}) },
        { rows, ms },
      );
      if (done) await recordMigrationStep(tx as unknown as Sql, spec.id, "backfilled", { rowsCopied: record.rowsCopied + rows });
      return { rows, ms, next, done, last };
    });
    run.batches++;
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

/** One drain transaction; returns changes drained. */
async function drainOnce(run: Run, direction: CaptureDirection, limit: number): Promise<number> {
  const drained = await run.kind.drain(run.m.sql, run.record!, direction, limit);
  run.changesDrained += drained;
  return drained;
}

/** Drains until fewer than one transaction's worth is left. */
async function drainAll(run: Run, direction: CaptureDirection, limit = DRAIN_LIMIT): Promise<void> {
  while ((await drainOnce(run, direction, limit)) >= limit);
}

/**
 * Verification: drain, then compare (the kind's checks) from where an earlier run stopped, until
 * done or the deadline (then the position is saved and false returned). A difference is recorded
 * and thrown, the position reset, and a `verified` migration goes back to `backfilled`, so nothing
 * swaps without a verification that passes.
 * @throws MigrationError naming the first differing key ranges.
 */
async function verify(run: Run): Promise<boolean> {
  const { m, spec } = run;
  await drainAll(run, "forward");
  const result = await run.kind.verify(m.sql, run.record!, run.record!.verifyWatermark, m.deadline);
  run.verification = result;
  await recordMigrationStep(m.sql, spec.id, "verify", { ok: result.ok, complete: result.complete, ranges: result.ranges, rows: result.rows, differing: result.differing, durationMs: result.durationMs });
  if (!result.ok) {
    // A copy found different is no longer verified: the next swap must verify again.
    const state = run.record!.state === "verified" ? "backfilled" : run.record!.state;
    await updateMigration(m.sql, spec.id, { state, verifiedAt: null, verifyWatermark: null });
    run.record = { ...run.record!, state, verifiedAt: null, verifyWatermark: null };
    throw new MigrationError(run.kind.differenceMessage(run.record, result));
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

/** The swap: drain most changes without a lock, then the kind's one locked transaction. */
async function swap(run: Run): Promise<void> {
  const { m, spec } = run;
  const step = await run.kind.swapStep(m.sql, run.record!);
  await drainAll(run, "forward", SWAP_DRAIN_BEFORE_LOCK);
  const now = m.clock();
  const startedMs = Date.now();
  await run.exec.run(step, async (tx) => {
    await updateMigration(tx, spec.id, { state: "swapped", swappedAt: now, lastError: null });
    await recordMigrationStep(tx, spec.id, "swap", { durationMs: Date.now() - startedMs });
  });
  run.record = { ...run.record!, state: "swapped", swappedAt: now };
}

async function rollback(run: Run): Promise<void> {
  const { spec } = run;
  const step = run.kind.rollbackStep(run.record!);
  if (run.kind.hasReverse(run.record!)) await drainAll(run, "reverse", SWAP_DRAIN_BEFORE_LOCK);
  await run.exec.run(step, async (tx) => {
    await updateMigration(tx, spec.id, { state: "rolled-back", swappedAt: null, verifiedAt: null });
    await recordMigrationStep(tx, spec.id, "rollback");
  });
  run.record = { ...run.record!, state: "rolled-back", swappedAt: null, verifiedAt: null };
}

async function finalize(run: Run): Promise<void> {
  const { m, spec } = run;
  const now = m.clock();
  await run.exec.run(run.kind.finalizeStep(run.record!), async (tx) => {
    await updateMigration(tx, spec.id, { state: "finalized", finalizedAt: now });
    await recordMigrationStep(tx, spec.id, "finalize");
  });
  run.record = { ...run.record!, state: "finalized", finalizedAt: now };
}

/** Captured changes not yet applied, in the direction in use; null when no capture table exists. */
export async function pendingChanges(sql: Sql, spec: MigrationSpec, config: Pick<Config, "tables">, record: MigrationRecord): Promise<number | null> {
  if (spec.kind === "move" || ["finalized", "preparing", "recurring"].includes(record.state)) return null;
  const kind = kindOf({ config } as MigrationAccess, spec);
  const direction = record.state === "swapped" ? "reverse" : "forward";
  if (direction === "reverse" && !kind.hasReverse(record)) return null;
  const [row] = await sql.unsafe<{ pending: string }[]>(kind.pendingSql(record, direction));
  return Number(row?.pending ?? 0);
}

/**
 * `migrate plan`: the steps `run` (or the action) would take from the current state, with their SQL,
 * recorded in the dry-run executor; nothing is changed.
 */
async function planSteps(run: Run, action: MigrateAction): Promise<string> {
  const { spec, exec, kind } = run;
  const record = run.record;
  const note = (description: string, plan: string[]) => exec.perform({ description, plan, work: async () => null });
  // The boundary is read in the capture step's transaction, by the step's own code, not a statement of it.
  const capture = async (r: MigrationRecord) => {
    for (const step of await kind.beforeCapture(run.m.sql, r, run.m.clock())) await exec.run(step);
    const step = kind.captureStep(r);
    await exec.run({ ...step, statements: [...step.statements, `-- then: ${kind.boundarySql(r)}`] });
  };
  if (!record) {
    const prepared = await kind.prepare(run.m.sql, run.m.clock());
    await exec.run(prepared.step);
    const planned = plannedRecord(run, prepared);
    await capture(planned);
    const rows = prepared.rowsEstimate !== null ? `about ${prepared.rowsEstimate.toLocaleString("en-US")} rows` : "every row";
    await note(`backfill ${rows} in batches of about ${spec.batch.targetMs} ms`, kind.batchPlan(null, prepared));
    await note("verify sources and targets range by range", []);
    await exec.run(await kind.swapStep(run.m.sql, planned));
    return action === "run" ? `would prepare and backfill, verify${spec.swap === "auto" ? " and swap" : ""}` : `not started: \`migrate ${action}\` needs \`migrate run\` first`;
  }
  switch (record.state) {
    case "preparing":
      await capture(record);
      return "would install capture, then backfill";
    case "backfilling":
    case "backfilled":
    case "verified":
    case "rolled-back": {
      if (record.state === "backfilling") await note(`backfill from ${record.watermark?.join(",") ?? "the start"} to ${record.boundary?.join(",")}`, kind.batchPlan(record, null));
      if (record.state !== "verified") await note("verify sources and targets range by range", []);
      await exec.run(await kind.swapStep(run.m.sql, record).catch((error: Error) => ({ description: `swap: ${error.message}`, statements: [], transaction: true })));
      return `${record.state}; would ${record.state === "verified" && spec.swap === "manual" ? "wait for `migrate swap`" : "continue"}`;
    }
    case "swapped":
      try {
        await exec.run(kind.rollbackStep(record));
      } catch (error) {
        await note(`rollback: ${(error as Error).message}`, []);
      }
      await exec.run(kind.finalizeStep(record));
      return swappedMessage(run);
    case "finalized":
    case "recurring":
      return "finalized: nothing to do";
  }
}

/** The record prepare would insert, for planning the steps after it. */
function plannedRecord(run: Run, prepared: PreparedMigration): MigrationRecord {
  const now = run.m.clock();
  return {
    id: run.spec.id,
    kind: run.spec.kind,
    spec: { ...run.kind.structural, layout: prepared.layout },
    state: "preparing",
    paused: false,
    boundary: null,
    watermark: null,
    rowsCopied: 0,
    rowsEstimate: prepared.rowsEstimate,
    backfillMs: 0,
    batchSize: run.spec.batch.initialSize,
    verifyWatermark: null,
    verifiedAt: null,
    swappedAt: null,
    finalizedAt: null,
    passFinishedAt: null,
    lastError: null,
    createdAt: now,
    updatedAt: now,
  };
}
