import { displayName } from "../identifier.ts";
import type { AnalyzeResult, RefreshStatsSummary } from "./run-refresh-stats.ts";

/** The refresh-stats summary as a person reads it: one line per view and per analyzed relation, then the totals. */
export function formatRefreshStatsSummary(summary: RefreshStatsSummary): string {
  const lines: string[] = [];
  // A view not due is not news: counted in the total line only.
  for (const v of summary.views.filter((x) => x.status !== "not-due")) {
    const done = v.status === "ok" ? `refreshed ${v.mode === "concurrently" ? "concurrently" : "plainly"} in ${v.durationMs} ms, ${v.rows} rows` : v.status;
    lines.push(`view ${displayName(v.view)}: ${done}${v.message ? ` (${v.message})` : ""}`);
  }
  // Per parent one line for its partitions (there may be thousands); what did not complete, one line each.
  const parents = new Map<string, AnalyzeResult[]>();
  for (const a of summary.analyzed) {
    if (a.status === "ok" || a.status === "planned") {
      const key = displayName(a.parent);
      parents.set(key, [...(parents.get(key) ?? []), a]);
    } else {
      lines.push(`${a.kind} ${displayName(a.relation)}: ${a.status} (${a.message ?? a.reason})`);
    }
  }
  for (const [parent, done] of parents) {
    const verb = summary.dryRun ? "would analyze" : "analyzed";
    const self = done.some((a) => a.kind === "parent") ? "the parent" : null;
    const partitions = done.filter((a) => a.kind === "partition");
    const never = partitions.filter((a) => a.reason === "never analyzed").length;
    const what = [self, partitions.length ? `${partitions.length} partitions (${never} never analyzed, ${partitions.length - never} much changed)` : null].filter(Boolean).join(" and ");
    const ms = done.reduce((sum, a) => sum + a.durationMs, 0);
    lines.push(`${parent}: ${verb} ${what}${summary.dryRun ? "" : ` in ${ms} ms`}`);
  }
  if (lines.length === 0) return `${summary.dryRun ? "[dry run] " : ""}refresh-stats: Nothing to do (every materialized view refreshed within its \`every\`, every statistic current).`;
  const counts = (status: string) => [...summary.views, ...summary.analyzed].filter((x) => x.status === status).length;
  lines.push(
    `${summary.dryRun ? "[dry run] " : ""}refresh-stats: ${summary.views.filter((v) => v.status === "ok").length} of ${summary.views.length} views refreshed, ` +
      `${summary.analyzed.filter((a) => a.status === "ok").length} relations analyzed, ${counts("failed")} failed, ${counts("stopped") + counts("deferred")} left for the next run, ${summary.durationMs} ms`,
  );
  return lines.join("\n");
}
