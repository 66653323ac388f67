import { archivePartition, type ArchiveOutcome } from "../archive/archive-partition.ts";
import type { ArchivePace } from "../archive/archive-parts.ts";
import { countDefaultPartitionRows, defaultPartitionOf, defaultPartitionRows } from "../catalog/default-partition-rows.ts";
import { readCatalog, type CatalogRequest } from "../catalog/read-catalog.ts";
import { newPartitionLocks } from "../catalog/read-relation.ts";
import type { ParentInfo } from "../catalog/types.ts";
import type { Config, TablePolicy } from "../config/schema.ts";
import { archivePrefixOf, selectTables } from "../config/select-tables.ts";
import { locateArchive } from "../archive/archive-keys.ts";
import type { JobContext } from "../context.ts";
import type { Sql } from "../db/client.ts";
import { jobDdlExecutor, type DdlExecutor } from "../db/ddl-executor.ts";
import { lockBudget } from "../db/lock-budget.ts";
import { migrate } from "../db/migrate.ts";
import { withParentLock, withParentLocks } from "../db/parent-lock.ts";
import { LockTimeoutError } from "../errors.ts";
import { displayName, sameName, type QualifiedName } from "../identifier.ts";
import { applyCreateBatch, applyPartitionAction } from "../partitions/apply-partition-action.ts";
import { createBatches, isPlainCreate, type PlainCreate } from "../partitions/create-batches.ts";
import type { Action } from "../plan/actions.ts";
import { planAll, type PlanRecords, type PlanWhich } from "../plan/plan-all.ts";
import { readMigrationRecords } from "../records/data-migrations.ts";
import { readUnfinishedArchives } from "../records/archives.ts";
import { finishJobRun, insertJobRun } from "../records/job-runs.ts";
import { recordManagedParents, recordMaxKeys, recordParentRuns, type MaxKeyRecord } from "../records/managed-parents.ts";
import { recordPartitionBounds } from "../records/partition-bounds.ts";
import { jobDefinition, LIFECYCLE_JOBS, type JobName } from "../jobs.ts";
import { mapWithConcurrency } from "./map-with-concurrency.ts";
import { partitionsAhead } from "./partitions-ahead.ts";

/** Which part of the lifecycle to run: one scheduled job, or `lifecycle` (maintain then archive). */
export type JobSelection = Extract<JobName, "maintain" | "archive"> | "lifecycle";

export interface RunJobOptions {
  readonly job: JobSelection;
  /** Plan only: every statement is recorded, none is run, nothing is written anywhere. */
  readonly dryRun: boolean;
  /** Limit the run to these parents (default: every table in the config). */
  readonly only?: ReadonlyArray<QualifiedName>;
}

export interface ActionOutcome {
  readonly action: Action;
  readonly status: "applied" | "planned" | "failed" | "deferred";
  /** The SQL this action ran (or would run, in a dry run), in order. */
  readonly statements: ReadonlyArray<string>;
  readonly rowsMoved?: number;
  readonly archive?: ArchiveOutcome;
  /** Why a `deferred` action waits, e.g. `3 of 8 parts archived; continues on the next run`. */
  readonly message?: string;
  readonly error?: string;
  /** Error class name, e.g. `ArchiveVerificationError`, `LockTimeoutError`. */
  readonly errorName?: string;
  readonly durationMs: number;
}

export interface ParentResult {
  readonly parent: QualifiedName;
  /** `skipped`: another runner holds the parent's lock (not an error, DESIGN rule 2). */
  readonly status: "ok" | "skipped" | "failed";
  readonly message?: string;
  readonly actions: ReadonlyArray<ActionOutcome>;
  /** Range partitions wholly ahead of the current slot after this run (maintain; range parents only). */
  readonly partitionsAhead?: number;
  /** Rows in the default partition after this run, capped (maintain; parents with one). */
  readonly defaultPartitionRows?: number;
}

/** What a run did; `ok` is false when any parent failed, so the Lambda door can fail the invocation. */
export interface JobSummary {
  readonly job: JobSelection;
  readonly dryRun: boolean;
  /** ISO-8601 UTC. */
  readonly startedAt: string;
  readonly durationMs: number;
  readonly parents: ReadonlyArray<ParentResult>;
  readonly ok: boolean;
  /** Row id in `partkeeper.job_run`; null in a dry run. */
  readonly jobRunId: number | null;
}

/**
 * Runs one job over every configured parent (STYLE.md rule 11: per-parent results, keep going).
 * Parents go in chunks of lockBudget (half of max_locks_per_transaction): the chunk's advisory locks
 * in one statement, one catalog read (no sizes) and one plan for all of it (surveyParents); a parent
 * with nothing to do is finished there. A parent with work is then run on its own (runParent): take
 * its advisory lock, read its catalog, plan, apply the actions in order, consecutive plain creates
 * several per transaction. A parent whose action fails stops that group of actions there (later
 * ones may depend on it) and is reported failed. The `maintain` job runs up to
 * `maintain.concurrency` parents of a chunk at once, each under its own lock, one action after
 * another on its own connections (other jobs: one parent at a time); the summary lists parents in
 * config order at any concurrency. The run's records (the job run and its summary, one outcome per
 * parent, range-integer max keys) are written once, at the end.
 * Never throws for a parent's failure; throws only when the database cannot be reached at all, or
 * ConfigError (before any SQL) when `only` names a table that is not in the config.
 */
export async function runJob(ctx: JobContext, options: RunJobOptions): Promise<JobSummary> {
  const started = ctx.clock();
  const which = planParts(options.job);
  const policies = selectTables(ctx.config, options.only);
  let jobRunId: number | null = null;
  if (!options.dryRun) {
    await migrate(ctx.sql, ctx.config.lockTimeoutMs);
    jobRunId = await insertJobRun(ctx.sql, options.job);
    await recordManagedParents(ctx.sql, policies, options.only === undefined);
  }

  const concurrency = options.job === "maintain" ? ctx.config.maintain.concurrency : 1;
  const run: ParentRun = { ctx, job: options.job, now: started, which, dryRun: options.dryRun, jobRunId, lockBudget: await lockBudget(ctx.sql), concurrency, maxKeys: [], archivePace: { slowestPartMs: 0 } };
  const parents: ParentResult[] = [];
  for (let first = 0; first < policies.length; first += run.lockBudget) {
    const chunk = policies.slice(first, first + run.lockBudget);
    const surveyed = await surveyParents(run, chunk);
    parents.push(...(await mapWithConcurrency(chunk, run.concurrency, async (policy, i) => surveyed[i] ?? (await runParentLocked(run, policy)))));
  }

  const summary: JobSummary = {
    job: options.job,
    dryRun: options.dryRun,
    startedAt: started.toISOString(),
    durationMs: ctx.clock().getTime() - started.getTime(),
    parents,
    ok: parents.every((p) => p.status !== "failed"),
    jobRunId,
  };
  emitMetrics(ctx, summary, which);
  if (jobRunId !== null) {
    const error = parents.filter((p) => p.status === "failed").map((p) => `${displayName(p.parent)}: ${p.message}`).join("\n") || null;
    await finishJobRun(ctx.sql, jobRunId, { ok: summary.ok, summary, error });
    const outcomes = parents.map((p) => ({ parent: p.parent, status: p.status, error: p.status === "failed" ? p.message : null }));
    for (const job of options.job === "lifecycle" ? LIFECYCLE_JOBS : [options.job]) await recordParentRuns(ctx.sql, jobRunId, job, outcomes);
    await recordPartitionBounds(ctx.sql);
    await recordMaxKeys(ctx.sql, run.maxKeys);
  }
  return summary;
}

/** What every parent of one run shares. */
interface ParentRun {
  readonly ctx: JobContext;
  readonly job: JobSelection;
  /** The run's start: the planner's `now`. */
  readonly now: Date;
  readonly which: PlanWhich;
  readonly dryRun: boolean;
  readonly jobRunId: number | null;
  /**
   * Objects locked at once at most (db/lock-budget.ts): parents per chunk, locks per create batch.
   * Per session: parents run at once are each their own session, with their own share of the lock table.
   */
  readonly lockBudget: number;
  /** Parents run at once (runParentLocked): `maintain.concurrency` for maintain, else 1 (an archive's memory and pace assume one). */
  readonly concurrency: number;
  /** Range-integer parents' max(key) as planned (in finishing order), recorded once at the end of a run that is not a dry run. */
  readonly maxKeys: MaxKeyRecord[];
  /** How long an archive part took in this run (archive-parts.ts): the deadline check of the next one. */
  readonly archivePace: ArchivePace;
}

/** The parts of the plan a selection applies, as the job catalog says (`lifecycle`: those of every lifecycle job). */
function planParts(selection: JobSelection): PlanWhich {
  const jobs = selection === "lifecycle" ? LIFECYCLE_JOBS : [selection];
  const parts = jobs.map((job) => jobDefinition(job).runs).filter((runs) => runs.kind === "plan");
  return { future: parts.some((p) => p.future), expired: parts.some((p) => p.expired) };
}

const catalogRequest = (policy: TablePolicy): CatalogRequest => ({ name: policy.parent, wantMaxKey: policy.strategy === "range-integer" });

/** What the planner reads of partkeeper's records; only the expiring part needs any. */
async function planRecords(sql: Sql, config: Config, which: PlanWhich): Promise<PlanRecords> {
  if (!which.expired) return { unfinishedArchives: [], finalizedMigrations: new Set() };
  return { unfinishedArchives: await readUnfinishedArchives(sql), finalizedMigrations: await finalizedMigrations(sql, config) };
}

/**
 * The set-based pass over a chunk of parents: their advisory locks in one statement (none in a dry
 * run), one catalog read and one plan for all of them. A parent another runner holds is skipped, one
 * that cannot be planned fails, and one with nothing to do is finished here: its partitions ahead
 * from the snapshot, its default partition's rows counted with the chunk's in one statement, its
 * max(key) kept for the run's records. So a pass over parents with nothing to do costs a few
 * statements per chunk, not several per parent (issue 8). A parent with work gets null: runParent
 * applies it under its own lock from its own catalog read, so a long action (an archive) holds only
 * its parent's lock. When the pass fails (a read error, a default partition dropped meanwhile) every
 * parent of the chunk gets null and is run on its own, so an error fails only its parent. The pass
 * only reads: nothing it did needs undoing.
 */
async function surveyParents(run: ParentRun, chunk: ReadonlyArray<TablePolicy>): Promise<Array<ParentResult | null>> {
  const { ctx } = run;
  const survey = async (holders: ReadonlyArray<string | null>, sql: Sql): Promise<Array<ParentResult | null>> => {
    const locked = chunk.filter((_, i) => holders[i] === null);
    const snapshot = await readCatalog(sql, locked.map(catalogRequest), { sizes: false });
    const plans = planAll({ ...ctx.config, tables: locked }, snapshot, await planRecords(sql, ctx.config, run.which), run.now, run.which);
    const results: Array<ParentResult | null> = [];
    const idle: Array<{ index: number; policy: TablePolicy; info: ParentInfo }> = [];
    let planned = 0; // planAll returns the plans of `locked`, in its order
    for (const [i, policy] of chunk.entries()) {
      const holder = holders[i] ?? null;
      if (holder !== null) {
        results.push(skipped(run, policy.parent, holder));
        continue;
      }
      const plan = plans[planned++]!;
      if (plan.error) results.push({ parent: policy.parent, status: "failed", message: plan.error.message, actions: [] });
      else if (plan.waitingFor) results.push({ parent: policy.parent, status: "ok", message: plan.waitingFor, actions: [] });
      else {
        results.push(null);
        if (plan.actions.length === 0) idle.push({ index: i, policy, info: snapshot.parents.find((p) => sameName(p.parent, policy.parent))! });
      }
    }
    const counted = run.dryRun || !run.which.future ? [] : idle.flatMap(({ index, info }) => {
      const partition = defaultPartitionOf(info, []);
      return partition ? [{ index, partition }] : [];
    });
    const rows = await countDefaultPartitionRows(sql, counted.map((c) => c.partition));
    const rowsOf = new Map(counted.map((c, k) => [c.index, rows[k]!]));
    for (const { index, policy, info } of idle) {
      if (!run.dryRun && policy.strategy === "range-integer") run.maxKeys.push({ parent: policy.parent, maxKey: info.maxKey });
      results[index] = finished(run, policy, info, [], rowsOf.get(index) ?? null);
    }
    return results;
  };
  try {
    return run.dryRun ? await survey(chunk.map(() => null), ctx.sql) : await withParentLocks(ctx.sql, chunk.map((p) => p.parent), survey);
  } catch (error) {
    ctx.logger.warn("set-based pass over parents failed; running them one by one", { job: run.job, parents: chunk.length, error: (error as Error).message });
    return chunk.map(() => null);
  }
}

/** A parent another runner holds: not an error (DESIGN rule 2), but said. */
function skipped(run: ParentRun, parent: QualifiedName, holder: string): ParentResult {
  const message = `skipped: another partkeeper run is working on ${displayName(parent)} (${holder})`;
  run.ctx.logger.warn(message, { job: run.job, parent: displayName(parent) });
  return { parent, status: "skipped", message, actions: [] };
}

/**
 * The result of a parent whose actions all went through: with, for a maintain run that is not a dry
 * run, the range partitions ahead (from the snapshot plus what was applied) and the rows in its default partition.
 */
function finished(run: ParentRun, policy: TablePolicy, info: ParentInfo, outcomes: ReadonlyArray<ActionOutcome>, defaultRows: number | null): ParentResult {
  const parent = policy.parent;
  if (run.dryRun || !run.which.future) return { parent, status: "ok", actions: outcomes };
  // Only what was applied: deferred creates (deadline) neither count as ahead nor exist to be counted.
  const applied = outcomes.filter((o) => o.status === "applied").map((o) => o.action);
  const ahead = partitionsAhead(policy, info, applied, run.now);
  return {
    parent,
    status: "ok",
    actions: outcomes,
    ...(ahead === null ? {} : { partitionsAhead: ahead }),
    ...(defaultRows === null ? {} : { defaultPartitionRows: defaultRows }),
  };
}

/** runParent under the parent's advisory lock (none in a dry run); a failure is the parent's result, never thrown. */
async function runParentLocked(run: ParentRun, policy: TablePolicy): Promise<ParentResult> {
  const parent = policy.parent;
  const work = () => runParent(run, policy);
  try {
    if (run.dryRun) return await work();
    const locked = await withParentLock(run.ctx.sql, parent, work);
    return locked.acquired ? locked.value : skipped(run, parent, locked.holder);
  } catch (error) {
    run.ctx.logger.error("parent failed", { job: run.job, parent: displayName(parent), error: (error as Error).message });
    return { parent, status: "failed", message: (error as Error).message, actions: [] };
  }
}

async function runParent(run: ParentRun, policy: TablePolicy): Promise<ParentResult> {
  const { ctx, dryRun } = run;
  const name = policy.parent;
  const snapshot = await readCatalog(ctx.sql, [catalogRequest(policy)], { sizes: false });
  const [plan] = planAll({ ...ctx.config, tables: [policy] }, snapshot, await planRecords(ctx.sql, ctx.config, run.which), run.now, run.which);
  if (!plan) throw new Error(`no plan for ${displayName(name)}`);
  if (plan.error) return { parent: name, status: "failed", message: plan.error.message, actions: [] };
  if (plan.waitingFor) return { parent: name, status: "ok", message: plan.waitingFor, actions: [] };
  const info = snapshot.parents[0]!;
  if (!dryRun && policy.strategy === "range-integer") run.maxKeys.push({ parent: name, maxKey: info.maxKey });

  const exec = jobDdlExecutor(ctx, dryRun);
  const outcomes: ActionOutcome[] = [];
  // Creating future partitions and expiring old ones are independent: a failure stops the rest of
  // its own group (later steps may depend on it) but not the other group.
  const groupOf = (a: Action) => (a.kind === "create-partition" || a.kind === "create-default-partition" ? "future" : "expired");
  const failedGroups = new Set<string>();
  let firstFailure: string | null = null;
  const steps = createBatches(plan.actions, await createsPerTransaction(run, plan.actions, name));
  for (const [index, step] of steps.entries()) {
    if (failedGroups.has(groupOf(step[0]!))) continue;
    if (!dryRun && ctx.clock().getTime() > ctx.deadline) {
      const rest = steps.slice(index).flat();
      for (const action of rest) outcomes.push({ action, status: "deferred", statements: [], durationMs: 0 });
      ctx.logger.warn("deadline reached; the rest continues on the next run", { parent: displayName(name), deferred: rest.length });
      break;
    }
    const stepOutcomes = step.length > 1 ? await applyBatch(run, exec, policy, info, step as ReadonlyArray<PlainCreate>) : [await applyAction(run, exec, policy, info, step[0]!)];
    outcomes.push(...stepOutcomes);
    if (stepOutcomes.some((o) => o.status === "deferred")) {
      // An archive in parts stopped before the deadline: what follows waits for the next run too.
      const rest = steps.slice(index + 1).flat();
      for (const action of rest) outcomes.push({ action, status: "deferred", statements: [], durationMs: 0 });
      if (rest.length) ctx.logger.warn("deadline near; the rest continues on the next run", { parent: displayName(name), deferred: rest.length });
      break;
    }
    const failure = stepOutcomes.find((o) => o.status === "failed");
    if (failure) {
      failedGroups.add(groupOf(failure.action));
      firstFailure ??= `${failure.action.kind} ${displayName(failure.action.partition)}: ${failure.error}`;
    }
  }
  if (firstFailure !== null) return { parent: name, status: "failed", message: firstFailure, actions: outcomes };
  const applied = outcomes.filter((o) => o.status === "applied").map((o) => o.action);
  const rows = dryRun || !run.which.future ? null : await defaultPartitionRows(ctx.sql, info, applied);
  return finished(run, policy, info, outcomes, rows);
}

/**
 * How many plain creates of `parent` share a transaction: as many as the lock budget holds, each
 * holding newPartitionLocks until the commit; 1 when `actions` has fewer than two (no read then).
 */
async function createsPerTransaction(run: ParentRun, actions: ReadonlyArray<Action>, parent: QualifiedName): Promise<number> {
  if (actions.filter(isPlainCreate).length < 2) return 1;
  return Math.max(1, Math.floor(run.lockBudget / Math.max(1, await newPartitionLocks(run.ctx.sql, parent))));
}

/** Applies one action (through the executor: a dry run only records it); a failure is its outcome, never thrown. */
async function applyAction(run: ParentRun, exec: DdlExecutor, policy: TablePolicy, info: ParentInfo, action: Action): Promise<ActionOutcome> {
  const { ctx, dryRun } = run;
  const parent = displayName(policy.parent);
  const firstStep = exec.log.length;
  const startedMs = Date.now();
  const statements = () => exec.log.slice(firstStep).flatMap((s) => s.statements);
  try {
    let result: { archive?: ArchiveOutcome; rowsMoved?: number };
    if (action.kind === "archive-partition") {
      const archive = locateArchive(ctx.store, archivePrefixOf(policy), action.parent, action.partition, "archive");
      const partBytes = ctx.config.archive?.partSize;
      const parquetVersion = ctx.config.archive?.parquetVersion;
      const outcome = await archivePartition(ctx, exec, info, action, archive, run.jobRunId, {
        pace: run.archivePace,
        ...(partBytes === undefined ? {} : { partBytes }),
        ...(parquetVersion === undefined ? {} : { parquetVersion }),
      });
      if (outcome !== null && "continues" in outcome) {
        ctx.logger.info("deferred", { parent, action: action.kind, partition: displayName(action.partition), message: outcome.message, durationMs: Date.now() - startedMs });
        return { action, status: "deferred", statements: statements(), message: outcome.message, durationMs: Date.now() - startedMs };
      }
      result = { archive: outcome ?? undefined };
    } else {
      result = await applyPartitionAction(exec, info, action);
    }
    ctx.logger.info(dryRun ? "planned" : "applied", { parent, action: action.kind, partition: displayName(action.partition), durationMs: Date.now() - startedMs });
    return { action, status: dryRun ? "planned" : "applied", statements: statements(), ...result, durationMs: Date.now() - startedMs };
  } catch (error) {
    const message = (error as Error).message;
    ctx.logger.error("action failed", { parent, action: action.kind, partition: displayName(action.partition), error: message });
    return { action, status: "failed", statements: statements(), error: message, errorName: (error as Error).name, durationMs: Date.now() - startedMs };
  }
}

/**
 * Applies plain creates in one transaction (applyCreateBatch), with the outcomes one by one would
 * have had: each applied (sharing the batch's time equally); or, when the batch's lock waits ran out
 * (LockTimeoutError: only its first CREATE waits, for the parent's lock), the first failed with that
 * error and the rest not tried, as the group stops there; or, on any other error, the batch rolled
 * back and its creates applied one by one up to the failing one, so the failure is pinned to its
 * create and the creates before it exist. Nothing is created twice: a rolled-back batch left nothing.
 */
async function applyBatch(run: ParentRun, exec: DdlExecutor, policy: TablePolicy, info: ParentInfo, creates: ReadonlyArray<PlainCreate>): Promise<ActionOutcome[]> {
  const { ctx, dryRun } = run;
  const parent = displayName(info.parent);
  const firstStep = exec.log.length;
  const startedMs = Date.now();
  try {
    await applyCreateBatch(exec, creates);
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof LockTimeoutError) {
      const action = creates[0]!;
      ctx.logger.error("action failed", { parent, action: action.kind, partition: displayName(action.partition), error: message });
      const statements = exec.log[firstStep]?.statements.slice(0, 1) ?? [];
      return [{ action, status: "failed", statements, error: message, errorName: error.name, durationMs: Date.now() - startedMs }];
    }
    ctx.logger.warn("batch of creates failed; applying them one by one", { parent, creates: creates.length, error: message });
    const outcomes: ActionOutcome[] = [];
    for (const action of creates) {
      const outcome = await applyAction(run, exec, policy, info, action);
      outcomes.push(outcome);
      if (outcome.status === "failed") break;
    }
    return outcomes;
  }
  const statements = exec.log[firstStep]!.statements;
  const durationMs = (Date.now() - startedMs) / creates.length;
  return creates.map((action, i) => {
    ctx.logger.info(dryRun ? "planned" : "applied", { parent, action: action.kind, partition: displayName(action.partition), durationMs });
    return { action, status: dryRun ? "planned" : "applied", statements: [statements[i]!], durationMs };
  });
}

/**
 * Job metrics (names and dimensions are what infra/lib/alarm-specs.ts alarms on): per parent with
 * a `Parent` dimension for diagnosis, and job-level aggregates without it, which the alarms watch:
 * `PartitionsAheadMin` (smallest over range parents), `DefaultPartitionRows` (total),
 * `ArchiveVerificationFailed` (count), and `JobSucceeded` / `JobFailed` (the heartbeat).
 */
function emitMetrics(ctx: JobContext, summary: JobSummary, which: PlanWhich): void {
  if (summary.dryRun) return;
  let verificationFailures = 0;
  for (const p of summary.parents) {
    const parent = displayName(p.parent);
    const applied = p.actions.filter((a) => a.status === "applied");
    ctx.metrics.count("PartitionsCreated", applied.filter((a) => a.action.kind === "create-partition").length, parent);
    ctx.metrics.count("PartitionsArchived", applied.filter((a) => a.action.kind === "archive-partition").length, parent);
    if (p.partitionsAhead !== undefined) ctx.metrics.gauge("PartitionsAhead", p.partitionsAhead, parent);
    if (p.defaultPartitionRows !== undefined) ctx.metrics.gauge("DefaultPartitionRows", p.defaultPartitionRows, parent);
    verificationFailures += p.actions.filter((a) => a.errorName === "ArchiveVerificationError").length;
  }
  const ahead = summary.parents.flatMap((p) => (p.partitionsAhead === undefined ? [] : [p.partitionsAhead]));
  if (ahead.length) ctx.metrics.gauge("PartitionsAheadMin", Math.min(...ahead));
  const defaults = summary.parents.flatMap((p) => (p.defaultPartitionRows === undefined ? [] : [p.defaultPartitionRows]));
  if (defaults.length) ctx.metrics.gauge("DefaultPartitionRows", defaults.reduce((a, b) => a + b, 0));
  if (which.expired) ctx.metrics.count("ArchiveVerificationFailed", verificationFailures);
  // A parent skipped because another runner holds its lock is not a failure, but a lock held for
  // hours (a runner killed mid-run whose session lingers) must still be visible.
  ctx.metrics.count("ParentsSkipped", summary.parents.filter((p) => p.status === "skipped").length);
  ctx.metrics.count(summary.ok ? "JobSucceeded" : "JobFailed", 1);
}

/** Ids of the config's transform migrations that are finalized (their targets may be archived). */
async function finalizedMigrations(sql: Sql, config: Config): Promise<ReadonlySet<string>> {
  if (!config.migrations.some((m) => m.kind === "transform")) return new Set();
  const records = await readMigrationRecords(sql);
  return new Set([...records.values()].filter((r) => r.state === "finalized").map((r) => r.id));
}
