import { addCalendarDuration } from "../config/duration.ts";
import type { MaterializedViewPolicy } from "../config/schema.ts";
import type { JobContext } from "../context.ts";
import { migrate } from "../db/migrate.ts";
import { schemaVersion } from "../db/migrate.ts";
import { displayName, sameName, type QualifiedName } from "../identifier.ts";
import { finishJobRun, insertJobRun } from "../records/job-runs.ts";
import { recordManagedParents, recordParentRuns } from "../records/managed-parents.ts";
import { recordPartitionBounds } from "../records/partition-bounds.ts";
import { lastSuccessful, recordStatsWork, type StatsWorkStatus } from "../records/stats-refreshes.ts";
import { analyzeRelation, readAnalyzeSettings, readPartitionAnalyzeStates } from "../stats/analyze-relations.ts";
import { planAnalyze, type AnalyzeTarget } from "../stats/plan-analyze.ts";
import { refreshView } from "../stats/refresh-view.ts";

/** `planned` (dry run), `deferred` (the budget was spent before its turn), `not-due` (refreshed within `every`). */
export type StatsItemStatus = StatsWorkStatus | "planned" | "deferred" | "not-due";

export interface ViewRefreshResult {
  readonly view: QualifiedName;
  readonly status: StatsItemStatus;
  readonly mode: "concurrently" | "plain" | null;
  readonly durationMs: number;
  readonly rows: number | null;
  readonly message: string | null;
}

export interface AnalyzeResult {
  readonly relation: QualifiedName;
  /** The managed parent: the relation itself, or the partition's parent. */
  readonly parent: QualifiedName;
  readonly kind: AnalyzeTarget["kind"];
  readonly reason: string;
  readonly status: StatsItemStatus;
  readonly durationMs: number;
  readonly rows: number | null;
  readonly message: string | null;
}

/** What a refresh-stats run did; `ok` is false when a refresh or an analyze failed (stopped by the budget is not a failure). */
export interface RefreshStatsSummary {
  readonly job: "refresh-stats";
  readonly dryRun: boolean;
  /** ISO-8601 UTC. */
  readonly startedAt: string;
  readonly durationMs: number;
  readonly views: ReadonlyArray<ViewRefreshResult>;
  readonly analyzed: ReadonlyArray<AnalyzeResult>;
  readonly ok: boolean;
  readonly jobRunId: number | null;
}

/**
 * The refresh-stats job: refreshes the configured materialized views (least recently refreshed
 * first, so one cut off by the budget goes first next time), then ANALYZEs what planAnalyze picks
 * (parents, never-analyzed and much-changed partitions), each within what is left of
 * `stats.budgetSeconds` and the Lambda deadline. Records every refresh and analyze in
 * `partkeeper.stats_refresh`, emits metrics (durations, view age, failures). A failing view or
 * relation is reported and the rest goes on. With `dryRun`, lists what it would do and changes nothing.
 */
export async function runRefreshStats(ctx: JobContext, options: { readonly dryRun: boolean }): Promise<RefreshStatsSummary> {
  const started = ctx.clock();
  const startedMs = Date.now();
  const { stats } = ctx.config;
  let jobRunId: number | null = null;
  if (!options.dryRun) {
    await migrate(ctx.sql, ctx.config.lockTimeoutMs);
    jobRunId = await insertJobRun(ctx.sql, "refresh-stats");
    await recordManagedParents(ctx.sql, ctx.config.tables, true);
  }
  const budgetEnds = Math.min(ctx.deadline, startedMs + stats.budgetSeconds * 1000);
  const left = () => budgetEnds - Date.now();
  const recorded = (await schemaVersion(ctx.sql)) >= 6;
  const lastRefresh = recorded ? await lastSuccessful(ctx.sql, "refresh") : [];
  const lastAnalyze = recorded ? await lastSuccessful(ctx.sql, "analyze") : [];
  const lastOf = (list: ReadonlyArray<{ relation: QualifiedName; at: Date }>, name: QualifiedName) => list.find((r) => sameName(r.relation, name))?.at ?? null;

  const views: ViewRefreshResult[] = [];
  const ordered = [...stats.materializedViews].sort((a, b) => (lastOf(lastRefresh, a.view)?.getTime() ?? -Infinity) - (lastOf(lastRefresh, b.view)?.getTime() ?? -Infinity));
  for (const policy of ordered) views.push(await refreshOne(ctx, policy, lastOf(lastRefresh, policy.view), { dryRun: options.dryRun, left, jobRunId }));

  const settings = await readAnalyzeSettings(ctx.sql);
  const parents = ctx.config.tables.map((t) => t.parent);
  const targets = planAnalyze({
    parents: parents.map((parent) => ({ parent, lastAnalyzed: lastOf(lastAnalyze, parent) })),
    partitions: await readPartitionAnalyzeStates(ctx.sql, parents),
    // Wall-clock time, not the job clock: last analyzes and refreshes are recorded in real time.
    now: new Date(),
    settings: stats.analyze,
    threshold: settings.threshold,
    parentCoversPartitions: !settings.analyzeOnly,
  });
  const analyzed: AnalyzeResult[] = [];
  for (const target of targets) {
    const base = { relation: target.relation, parent: target.parent, kind: target.kind, reason: target.reason, rows: null, message: null, durationMs: 0 };
    if (options.dryRun) {
      analyzed.push({ ...base, status: "planned" });
      continue;
    }
    if (left() <= 0) {
      analyzed.push({ ...base, status: "deferred", message: "the budget was spent; the next run does it" });
      continue;
    }
    const at = new Date();
    const outcome = await analyzeRelation(ctx.sql, target, { lockTimeoutMs: ctx.config.lockTimeoutMs, budgetMs: left(), analyzeOnly: settings.analyzeOnly });
    analyzed.push({ ...base, status: outcome.status, durationMs: outcome.durationMs, rows: outcome.rows, message: outcome.message });
    await recordStatsWork(ctx.sql, jobRunId!, { kind: "analyze", relation: target.relation, mode: outcome.mode, status: outcome.status, startedAt: at, durationMs: outcome.durationMs, rows: outcome.rows, message: outcome.message });
    if (outcome.status !== "ok") ctx.logger.warn("analyze did not complete", { relation: displayName(target.relation), status: outcome.status, message: outcome.message });
  }

  const summary: RefreshStatsSummary = {
    job: "refresh-stats",
    dryRun: options.dryRun,
    startedAt: started.toISOString(),
    durationMs: Date.now() - startedMs,
    views,
    analyzed,
    ok: views.every((v) => v.status !== "failed") && analyzed.every((a) => a.status !== "failed"),
    jobRunId,
  };
  if (jobRunId !== null) {
    emitMetrics(ctx, summary, lastRefresh);
    const failures = [...views.filter((v) => v.status === "failed"), ...analyzed.filter((a) => a.status === "failed")].map((f) => f.message);
    await finishJobRun(ctx.sql, jobRunId, { ok: summary.ok, summary, error: failures.join("\n") || null });
    await recordParentRuns(
      ctx.sql,
      jobRunId,
      "refresh-stats",
      parents.map((parent) => {
        const failed = analyzed.find((a) => a.status === "failed" && a.kind === "parent" && sameName(a.relation, parent));
        return { parent, status: failed ? "failed" : "ok", error: failed?.message ?? null };
      }),
    );
    await recordPartitionBounds(ctx.sql);
  }
  return summary;
}

async function refreshOne(
  ctx: JobContext,
  policy: MaterializedViewPolicy,
  lastRefreshed: Date | null,
  run: { readonly dryRun: boolean; readonly left: () => number; readonly jobRunId: number | null },
): Promise<ViewRefreshResult> {
  const base = { view: policy.view, mode: null, durationMs: 0, rows: null };
  if (policy.every && lastRefreshed && addCalendarDuration(lastRefreshed, policy.every) > new Date()) {
    return { ...base, status: "not-due", message: `refreshed ${lastRefreshed.toISOString()}, within its every` };
  }
  if (run.dryRun) return { ...base, status: "planned", message: null };
  if (run.left() <= 0) return { ...base, status: "deferred", message: "the budget was spent; it is first in line on the next run" };
  const at = new Date();
  const outcome = await refreshView(ctx.sql, policy, { lockTimeoutMs: ctx.config.lockTimeoutMs, attempts: ctx.config.ddlAttempts, budgetMs: run.left() });
  if (outcome.warning) ctx.logger.warn(outcome.warning, { view: displayName(policy.view) });
  if (outcome.status !== "ok") ctx.logger.error("refresh did not complete", { view: displayName(policy.view), status: outcome.status, message: outcome.message });
  await recordStatsWork(ctx.sql, run.jobRunId!, { kind: "refresh", relation: policy.view, mode: outcome.mode ?? "none", status: outcome.status, startedAt: at, durationMs: outcome.durationMs, rows: outcome.rows, message: outcome.message });
  return { view: policy.view, status: outcome.status, mode: outcome.mode, durationMs: outcome.durationMs, rows: outcome.rows, message: outcome.message ?? outcome.warning };
}

/**
 * Metrics (infra/lib/alarm-specs.ts alarms on the job-level ones): per view (`View` dimension)
 * `MaterializedViewRefreshMs` and `MaterializedViewAgeSeconds` (since its last successful refresh,
 * this one included); job-level `MaterializedViewRefreshFailed`, `RelationsAnalyzed`, `AnalyzeMs`,
 * `AnalyzeFailed`, `StatsDeferred` and `JobSucceeded` / `JobFailed`.
 */
function emitMetrics(ctx: JobContext, summary: RefreshStatsSummary, lastRefresh: ReadonlyArray<{ relation: QualifiedName; at: Date }>): void {
  const now = Date.now();
  for (const v of summary.views) {
    const view = displayName(v.view);
    if (v.status === "ok") ctx.metrics.measure("MaterializedViewRefreshMs", v.durationMs, "Milliseconds", { View: view });
    const last = v.status === "ok" ? now : lastRefresh.find((r) => sameName(r.relation, v.view))?.at.getTime();
    if (last !== undefined) ctx.metrics.measure("MaterializedViewAgeSeconds", Math.round((now - last) / 1000), "Seconds", { View: view });
  }
  const analyzedOk = summary.analyzed.filter((a) => a.status === "ok");
  ctx.metrics.count("MaterializedViewRefreshFailed", summary.views.filter((v) => v.status === "failed").length);
  ctx.metrics.count("RelationsAnalyzed", analyzedOk.length);
  ctx.metrics.measure("AnalyzeMs", analyzedOk.reduce((sum, a) => sum + a.durationMs, 0), "Milliseconds");
  ctx.metrics.count("AnalyzeFailed", summary.analyzed.filter((a) => a.status === "failed").length);
  ctx.metrics.count("StatsDeferred", [...summary.views, ...summary.analyzed].filter((x) => x.status === "deferred" || x.status === "stopped").length);
  ctx.metrics.count(summary.ok ? "JobSucceeded" : "JobFailed", 1);
}
