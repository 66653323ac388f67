import { displayName } from "../identifier.ts";
import type { RefreshStatsSummary } from "./run-refresh-stats.ts";

/** The refresh-stats summary as a person reads it: one line per view and per analyzed relation, then the totals. */
export function formatRefreshStatsSummary(summary: RefreshStatsSummary): string {
  const lines: string[] = [];
  for (const v of summary.views) {
    const done = v.status === "ok" ? `refreshed ${v.mode === "concurrently" ? "concurrently" : "plainly"} in ${v.durationMs} ms, ${v.rows} rows` : v.status;
    lines.push(`view ${displayName(v.view)}: ${done}${v.message ? ` (${v.message})` : ""}`);
  }
  for (const a of summary.analyzed) {
    const done = a.status === "ok" ? `analyzed in ${a.durationMs} ms, ~${a.rows ?? 0} rows` : a.status;
    lines.push(`${a.kind} ${displayName(a.relation)}: ${done} (${a.message ?? a.reason})`);
  }
  if (lines.length === 0) return `${summary.dryRun ? "[dry run] " : ""}refresh-stats: Nothing to do (no materialized view due, every statistic current).`;
  const counts = (status: string) => [...summary.views, ...summary.analyzed].filter((x) => x.status === status).length;
  lines.push(
    `${summary.dryRun ? "[dry run] " : ""}refresh-stats: ${summary.views.filter((v) => v.status === "ok").length} of ${summary.views.length} views refreshed, ` +
      `${summary.analyzed.filter((a) => a.status === "ok").length} relations analyzed, ${counts("failed")} failed, ${counts("stopped") + counts("deferred")} left for the next run, ${summary.durationMs} ms`,
  );
  return lines.join("\n");
}
