import { displayName } from "../identifier.ts";
import type { RestoreResult } from "../restore/restore-partition.ts";
import type { ActionOutcome, JobSummary } from "./run-job.ts";

// The text of a job's or a restore's result, one formatter per kind for both doors: the CLI prints
// it, the Lambda door logs it next to the JSON result it returns.

const MB = 1024 * 1024;

/** A size for people: `12.3 MB` from 1 MiB up, `4.0 kB` below (binary units, one decimal). */
export function bytes(n: number): string {
  return n >= MB ? `${(n / MB).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} kB`;
}

/** A row count (or rate) for people: rounded, with thousands separators, `1,234,567`. */
export function rows(n: number): string {
  return Math.round(n).toLocaleString("en-US");
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
  const out = [`    ${line}${mark}${o.message ? `: ${o.message}` : ""}${o.error ? `: ${o.error}` : ""}`];
  if (showSql) for (const s of o.statements) out.push(`        ${s};`);
  return out;
}

/**
 * A job's summary for a person: per parent, partitions created (rows moved out of the default
 * partition), archived (rows, bytes, object keys), dropped, and the time taken; in a dry run (a
 * plan) every action's SQL too.
 */
export function formatJobSummary(summary: JobSummary): string {
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
          ? (p.message ?? "nothing to do")
          : `${p.status.toUpperCase()}: ${p.message}`
        : `${summary.dryRun ? "would create" : "created"} ${created}, ${summary.dryRun ? "would archive" : "archived"} ${archived}, ${summary.dryRun ? "would drop" : "dropped"} ${dropped}`;
    lines.push(`  ${displayName(p.parent)}: ${head}`);
    for (const o of p.actions) lines.push(...describe(o, summary.dryRun));
  }
  if (!summary.ok) lines.push("Some parents failed; see above. Nothing was dropped without a verified archive.");
  else if (summary.parents.every((p) => p.actions.length === 0 && p.status === "ok")) {
    lines.push("Nothing to do: every partition is in place and nothing has expired.");
  }
  return lines.join("\n");
}

/** One line on what failed, e.g. `1 of 2 parent(s) failed; first: public.events: <first line of its error>`; null when every parent is ok. */
export function formatJobFailure(summary: JobSummary): string | null {
  const failed = summary.parents.filter((p) => p.status === "failed");
  const first = failed[0];
  if (first === undefined) return null;
  return `${failed.length} of ${summary.parents.length} parent(s) failed; first: ${displayName(first.parent)}: ${first.message?.split("\n")[0]}`;
}

/** One paragraph: what was restored where, how many rows, from which manifest; the SQL in a dry run. */
export function formatRestoreResult(r: RestoreResult): string {
  const count = rows(r.rows);
  const where =
    r.mode === "attach"
      ? `${displayName(r.target)}, attached to ${displayName(r.parent)}`
      : `side table ${displayName(r.target)} (not attached to ${displayName(r.parent)})`;
  let text: string;
  switch (r.status) {
    case "planned":
      text = `partkeeper restore (dry run): would restore ${count} rows of ${displayName(r.partition)} from ${r.manifestUrl} into ${where}. Nothing was changed. SQL:`;
      break;
    case "already restored":
      text = `partkeeper restore: ${displayName(r.partition)} is already restored in ${where} with the archive's ${count} rows; nothing to do.`;
      break;
    case "restored":
      text =
        `partkeeper restore: restored ${count} rows of ${displayName(r.partition)} from ${r.manifestUrl} into ${where} in ${(r.durationMs / 1000).toFixed(1)} s.` +
        (r.mode === "attach"
          ? " If the partition is still past its retention, the next archive run archives it again (reusing the same archive) and drops it."
          : "");
      break;
  }
  if (r.columnsFrom === "manifest") text += " Columns were created from the manifest's types (the parent is gone or its columns changed).";
  const sql = r.status === "planned" ? r.statements.map((s) => `    ${s.startsWith("--") ? s : `${s};`}`) : [];
  return [text, ...sql].join("\n");
}
