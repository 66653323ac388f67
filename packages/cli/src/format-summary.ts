import { displayName, type ActionOutcome, type JobSummary } from "@partkeeper/core";

const MB = 1024 * 1024;

function bytes(n: number): string {
  return n >= MB ? `${(n / MB).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} kB`;
}

function rows(n: number): string {
  return n.toLocaleString("en-US");
}

function describe(o: ActionOutcome, showSql: boolean): string[] {
  const a = o.action;
  const mark = { applied: "", planned: "", failed: "  FAILED", deferred: "  (deferred to next run)" }[o.status];
  let line: string;
  switch (a.kind) {
    case "create-partition":
      line = `+ ${a.partition.name}  (${a.reason}${o.rowsMoved ? `, ${rows(o.rowsMoved)} rows moved from the default partition` : ""})`;
      break;
    case "create-default-partition":
      line = `+ ${a.partition.name}  (default partition)`;
      break;
    case "archive-partition": {
      const r = o.archive;
      line = r
        ? `> ${a.partition.name}  archived ${rows(r.rows)} rows, ${bytes(r.bytes)} Parquet (${bytes(r.partitionBytes)} on disk) -> ${r.objectUrl}; ${r.finalState}`
        : `> ${a.partition.name}  (${a.reason}${a.resumeArchiveId !== null ? `, resuming archive #${a.resumeArchiveId}` : ""})`;
      break;
    }
    case "drop-partition":
      line = `- ${a.partition.name}  (${a.reason}; dropped without archive)`;
      break;
    case "detach-partition":
      line = `~ ${a.partition.name}  (${a.reason}; detached and kept)`;
      break;
  }
  const out = [`    ${line}${mark}${o.error ? `: ${o.error}` : ""}`];
  if (showSql) for (const s of o.statements) out.push(`        ${s};`);
  return out;
}

/** Human-readable summary: per parent, partitions created, archived (rows, bytes, keys), dropped, time. */
export function formatSummary(summary: JobSummary, options: { showSql: boolean }): string {
  const lines: string[] = [];
  const verb = summary.dryRun ? "plan" : "run";
  lines.push(`partkeeper ${verb} ${summary.job}: ${summary.parents.length} parent(s), ${(summary.durationMs / 1000).toFixed(1)} s`);
  for (const p of summary.parents) {
    const count = (kind: string) => p.actions.filter((a) => a.action.kind === kind && a.status !== "failed" && a.status !== "deferred").length;
    const created = count("create-partition") + count("create-default-partition");
    const archived = count("archive-partition");
    const dropped = count("drop-partition") + p.actions.filter((a) => a.archive?.finalState === "dropped").length;
    const head =
      p.status === "skipped" || p.status === "failed" || p.actions.length === 0
        ? p.status === "ok"
          ? "nothing to do"
          : `${p.status.toUpperCase()}: ${p.message}`
        : `${summary.dryRun ? "would create" : "created"} ${created}, ${summary.dryRun ? "would archive" : "archived"} ${archived}, ${summary.dryRun ? "would drop" : "dropped"} ${dropped}`;
    lines.push(`  ${displayName(p.parent)}: ${head}`);
    for (const o of p.actions) lines.push(...describe(o, options.showSql));
  }
  if (!summary.ok) lines.push("Some parents failed; see above. Nothing was dropped without a verified archive.");
  else if (summary.parents.every((p) => p.actions.length === 0 && p.status === "ok")) {
    lines.push("Nothing to do: every partition is in place and nothing has expired.");
  }
  return lines.join("\n");
}
