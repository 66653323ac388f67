import type { MigrationProgress } from "../migrate/advance-migration.ts";
import { rows } from "./format-summary.ts";
import type { MigrateSummary, MigrationStatus } from "./run-migrations.ts";

/** `1m 05s`, `3.2 s`: a duration for people. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return s < 3600 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s` : `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** `123,456 / ~500,000 rows, 45,000 rows/s, ETA 8.4 s`. */
export function formatProgress(p: MigrationProgress): string {
  const total = p.rowsEstimate === null ? "" : ` / ~${rows(p.rowsEstimate)}`;
  const eta = p.etaMs === null ? "" : `, ETA ${formatDuration(p.etaMs)}`;
  return `${rows(p.rowsCopied)}${total} rows, ${rows(p.rowsPerSecond)} rows/s${eta}`;
}

/** What `migrate <action>` did (or, planned: the steps and their SQL), one paragraph per migration. */
export function formatMigrateSummary(summary: MigrateSummary): string {
  const lines = [`partkeeper migrate ${summary.action}${summary.dryRun ? " (plan: nothing changed)" : ""}, ${summary.migrations.length} migration(s), ${formatDuration(summary.durationMs)}`];
  for (const m of summary.migrations) {
    const moved = m.stateBefore === m.stateAfter ? m.stateAfter : `${m.stateBefore} -> ${m.stateAfter}`;
    const work = [m.rowsCopied ? `${rows(m.rowsCopied)} rows backfilled` : "", m.changesDrained ? `${rows(m.changesDrained)} captured changes applied` : ""].filter(Boolean).join(", ");
    lines.push(`  ${m.id} (${m.kind} ${m.table}): ${m.status === "ok" ? "" : `${m.status.toUpperCase()}: `}${moved}${work ? `; ${work}` : ""}. ${m.message}`);
    if (m.verification) {
      const v = m.verification;
      const verdict = !v.ok ? "DIFFERENT" : v.complete ? "equal" : "equal so far (the next run continues after the last range)";
      lines.push(`    verified ${rows(v.rows)} rows in ${v.ranges} key ranges in ${formatDuration(v.durationMs)}: ${verdict}`);
    }
    const shown = summary.dryRun ? m.steps : m.steps.filter((s) => s.statements.length > 0 && !s.description.startsWith("drain"));
    for (const step of shown) {
      lines.push(`    - ${step.description}`);
      if (summary.dryRun) for (const s of step.statements) lines.push(`        ${s.startsWith("--") ? s.replaceAll("\n", "\n        ") : `${s.replaceAll("\n", "\n        ")};`}`);
    }
  }
  if (summary.migrations.length === 0) lines.push("  No migrations in the config.");
  else if (!summary.dryRun && summary.migrations.every((m) => m.status === "ok" && m.rowsCopied === 0 && m.changesDrained === 0 && m.stateBefore === m.stateAfter)) {
    lines.push("Nothing to do for migrations.");
  }
  return lines.join("\n");
}

/** `migrate status`: one block per migration. */
export function formatMigrationStatus(list: ReadonlyArray<MigrationStatus>): string {
  if (list.length === 0) return "No migrations in the config.";
  return list
    .map((s) => {
      const lines = [`${s.id} (${s.kind} ${s.table}): ${s.state}${s.paused ? " (paused)" : ""}`];
      if (s.progress && s.state !== "new") lines.push(`  backfill: ${formatProgress(s.progress)}`);
      if (s.watermark || s.boundary) lines.push(`  watermark ${s.watermark?.join(",") ?? "-"} of boundary ${s.boundary?.join(",") ?? "-"}`);
      if (s.pendingChanges !== null) lines.push(`  captured changes pending: ${rows(s.pendingChanges)}`);
      if (s.swappedAt) lines.push(`  swapped at ${s.swappedAt}`);
      if (s.lastError) lines.push(`  last error: ${s.lastError}`);
      return lines.join("\n");
    })
    .join("\n");
}
