import { archivePartition, type ArchiveOutcome } from "../archive/archive-partition.ts";
import { readCatalog } from "../catalog/read-catalog.ts";
import type { TablePolicy } from "../config/schema.ts";
import { archivePrefixOf, selectTables } from "../config/select-tables.ts";
import { locateArchive } from "../archive/archive-keys.ts";
import type { JobContext } from "../context.ts";
import { jobDdlExecutor } from "../db/ddl-executor.ts";
import { migrate } from "../db/migrate.ts";
import { withParentLock } from "../db/parent-lock.ts";
import { displayName, type QualifiedName } from "../identifier.ts";
import { applyPartitionAction } from "../partitions/apply-partition-action.ts";
import type { Action } from "../plan/actions.ts";
import { planAll, type PlanWhich } from "../plan/plan-all.ts";
import { readMigrationRecords } from "../records/data-migrations.ts";
import { readUnfinishedArchives } from "../records/archives.ts";
import { finishJobRun, insertJobRun } from "../records/job-runs.ts";
import { recordManagedParents, recordMaxKey, recordParentRuns } from "../records/managed-parents.ts";
import { jobDefinition, LIFECYCLE_JOBS, type JobName } from "../jobs.ts";
import { defaultPartitionRows } from "../catalog/default-partition-rows.ts";
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
 * Per parent: take the advisory lock, read the catalog, plan, apply each action in order. A parent
 * whose action fails stops there (later actions may depend on it) and is reported failed.
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

  const parents: ParentResult[] = [];
  for (const policy of policies) {
    const parent = policy.parent;
    const log = { job: options.job, parent: displayName(parent) };
    const run = () => runParent(ctx, policy, started, which, options.dryRun, jobRunId);
    try {
      if (options.dryRun) {
        parents.push(await run());
        continue;
      }
      const locked = await withParentLock(ctx.sql, parent, run);
      if (locked.acquired) {
        parents.push(locked.value);
      } else {
        const message = `skipped: another partkeeper run is working on ${displayName(parent)} (${locked.holder})`;
        ctx.logger.warn(message, log);
        parents.push({ parent, status: "skipped", message, actions: [] });
      }
    } catch (error) {
      ctx.logger.error("parent failed", { ...log, error: (error as Error).message });
      parents.push({ parent, status: "failed", message: (error as Error).message, actions: [] });
    }
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
  }
  return summary;
}

/** The parts of the plan a selection applies, as the job catalog says (`lifecycle`: those of every lifecycle job). */
function planParts(selection: JobSelection): PlanWhich {
  const jobs = selection === "lifecycle" ? LIFECYCLE_JOBS : [selection];
  const parts = jobs.map((job) => jobDefinition(job).runs).filter((runs) => runs.kind === "plan");
  return { future: parts.some((p) => p.future), expired: parts.some((p) => p.expired) };
}

async function runParent(
  ctx: JobContext,
  policy: TablePolicy,
  now: Date,
  which: PlanWhich,
  dryRun: boolean,
  jobRunId: number | null,
): Promise<ParentResult> {
  const name = policy.parent;
  const snapshot = await readCatalog(ctx.sql, [{ name, wantMaxKey: policy.strategy === "range-integer" }]);
  const records = {
    unfinishedArchives: which.expired ? await readUnfinishedArchives(ctx.sql) : [],
    finalizedMigrations: which.expired ? await finalizedMigrations(ctx) : new Set<string>(),
  };
  const [plan] = planAll({ ...ctx.config, tables: [policy] }, snapshot, records, now, which);
  if (!plan) throw new Error(`no plan for ${displayName(name)}`);
  if (plan.error) return { parent: name, status: "failed", message: plan.error.message, actions: [] };
  if (plan.waitingFor) return { parent: name, status: "ok", message: plan.waitingFor, actions: [] };
  const info = snapshot.parents[0]!;
  if (!dryRun && policy.strategy === "range-integer") await recordMaxKey(ctx.sql, name, info.maxKey);

  const exec = jobDdlExecutor(ctx, dryRun);
  const outcomes: ActionOutcome[] = [];
  // Creating future partitions and expiring old ones are independent: a failure stops the rest of
  // its own group (later steps may depend on it) but not the other group.
  const groupOf = (a: Action) => (a.kind === "create-partition" || a.kind === "create-default-partition" ? "future" : "expired");
  const failedGroups = new Set<string>();
  let firstFailure: string | null = null;
  for (const [index, action] of plan.actions.entries()) {
    if (failedGroups.has(groupOf(action))) continue;
    if (!dryRun && ctx.clock().getTime() > ctx.deadline) {
      for (const rest of plan.actions.slice(index)) outcomes.push({ action: rest, status: "deferred", statements: [], durationMs: 0 });
      ctx.logger.warn("deadline reached; the rest continues on the next run", { parent: displayName(name), deferred: plan.actions.length - index });
      break;
    }
    const firstStep = exec.log.length;
    const startedMs = Date.now();
    const statements = () => exec.log.slice(firstStep).flatMap((s) => s.statements);
    try {
      const result =
        action.kind === "archive-partition"
          ? { archive: (await archivePartition(ctx, exec, info, action, locateArchive(ctx.store, archivePrefixOf(policy), action.parent, action.partition, "archive"), jobRunId)) ?? undefined }
          : await applyPartitionAction(exec, info, action);
      outcomes.push({ action, status: dryRun ? "planned" : "applied", statements: statements(), ...result, durationMs: Date.now() - startedMs });
      ctx.logger.info(dryRun ? "planned" : "applied", { parent: displayName(name), action: action.kind, partition: displayName(action.partition), durationMs: Date.now() - startedMs });
    } catch (error) {
      const message = (error as Error).message;
      outcomes.push({ action, status: "failed", statements: statements(), error: message, errorName: (error as Error).name, durationMs: Date.now() - startedMs });
      ctx.logger.error("action failed", { parent: displayName(name), action: action.kind, partition: displayName(action.partition), error: message });
      failedGroups.add(groupOf(action));
      firstFailure ??= `${action.kind} ${displayName(action.partition)}: ${message}`;
    }
  }
  if (firstFailure !== null) return { parent: name, status: "failed", message: firstFailure, actions: outcomes };
  if (dryRun || !which.future) return { parent: name, status: "ok", actions: outcomes };
  // Only what was applied: deferred creates (deadline) neither count as ahead nor exist to be counted.
  const applied = outcomes.filter((o) => o.status === "applied").map((o) => o.action);
  const ahead = partitionsAhead(policy, info, applied, now);
  const rows = await defaultPartitionRows(ctx.sql, info, applied);
  return {
    parent: name,
    status: "ok",
    actions: outcomes,
    ...(ahead === null ? {} : { partitionsAhead: ahead }),
    ...(rows === null ? {} : { defaultPartitionRows: rows }),
  };
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
async function finalizedMigrations(ctx: JobContext): Promise<ReadonlySet<string>> {
  if (!ctx.config.migrations.some((m) => m.kind === "transform")) return new Set();
  const records = await readMigrationRecords(ctx.sql);
  return new Set([...records.values()].filter((r) => r.state === "finalized").map((r) => r.id));
}
