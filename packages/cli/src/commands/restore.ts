import { Command, Option } from "commander";
import { displayName, RESTORE_MODES, restorePartition, type RestoreMode, type RestoreResult } from "@partkeeper/core";
import { action, EXIT, UsageError, withJobContext, type ConnectionOptions } from "../command-base.ts";
import { parseTables } from "./connection-options.ts";

interface RestoreCommandOptions extends ConnectionOptions {
  table: string;
  partition: string;
  mode: RestoreMode;
  target?: string;
  dryRun?: boolean;
  json?: boolean;
}

const EXAMPLES = `
Examples:
  # Load an archived month into a side table (public.workflow_events_p2025_01_restored) to query it:
  DATABASE_URL=postgres://... partkeeper restore --config partkeeper.config.json \\
    --table public.workflow_events --partition workflow_events_p2025_01

  # Print the SQL of putting it back under its parent, then do it:
  partkeeper restore -c partkeeper.config.json --table public.workflow_events \\
    --partition workflow_events_p2025_01 --mode attach --dry-run
  partkeeper restore -c partkeeper.config.json --table public.workflow_events \\
    --partition workflow_events_p2025_01 --mode attach

Running the same restore again is safe: it reports "already restored". See docs/restore.md.`;

/** `partkeeper restore`: loads one archived partition back from its Parquet archive. */
export function restoreCommand(): Command {
  return new Command("restore")
    .description(
      "Restore an archived partition from its Parquet archive: into a side table (default) or attached to its parent again (--mode attach).",
    )
    .requiredOption("-c, --config <file>", "partkeeper.config.json (or .ts/.js with a default export)")
    .requiredOption("--table <schema.table>", "the parent the partition was archived from (schema and table split at the first dot)")
    .requiredOption("--partition <name>", "the archived partition's name, e.g. workflow_events_p2025_01 (in the parent's schema)")
    .addOption(new Option("--mode <mode>", "side-table: a new, unattached table; attach: back under the parent").choices(RESTORE_MODES).default("side-table"))
    .option("--target <name>", "side-table mode: the new table's name (default <partition>_restored)")
    .option("--archive <location>", "archive location s3://bucket/prefix (overrides the config's archive.location)")
    .option("--database-url <url>", "Postgres connection URL (default: $DATABASE_URL)")
    .option("--dry-run", "print the SQL restore would run, change nothing")
    .option("--json", "print the result as JSON")
    .option("-v, --verbose", "log every step as JSON lines on stderr")
    .addHelpText("after", EXAMPLES)
    .action(action(restore));
}

async function restore(options: RestoreCommandOptions): Promise<number> {
  const [parent] = parseTables([options.table])!;
  if (options.partition.trim() === "") throw new UsageError("--partition must not be empty: give the archived partition's name");
  if (options.target !== undefined && options.mode === "attach") {
    throw new UsageError("--target applies to --mode side-table only: attach restores the partition under its own name");
  }
  return withJobContext(options, async (ctx) => {
    const result = await restorePartition(ctx, {
      parent: parent!,
      partition: options.partition,
      mode: options.mode,
      ...(options.target !== undefined ? { target: options.target } : {}),
      dryRun: Boolean(options.dryRun),
    });
    process.stdout.write(`${options.json ? JSON.stringify(result, null, 2) : formatRestore(result)}\n`);
    return EXIT.ok;
  });
}

/** One paragraph: what was restored where, how many rows, from which manifest; the SQL in a dry run. */
export function formatRestore(r: RestoreResult): string {
  const rows = r.rows.toLocaleString("en-US");
  const where =
    r.mode === "attach"
      ? `${displayName(r.target)}, attached to ${displayName(r.parent)}`
      : `side table ${displayName(r.target)} (not attached to ${displayName(r.parent)})`;
  let text: string;
  switch (r.status) {
    case "planned":
      text = `partkeeper restore (dry run): would restore ${rows} rows of ${displayName(r.partition)} from ${r.manifestUrl} into ${where}. Nothing was changed. SQL:`;
      break;
    case "already restored":
      text = `partkeeper restore: ${displayName(r.partition)} is already restored in ${where} with the archive's ${rows} rows; nothing to do.`;
      break;
    case "restored":
      text =
        `partkeeper restore: restored ${rows} rows of ${displayName(r.partition)} from ${r.manifestUrl} into ${where} in ${(r.durationMs / 1000).toFixed(1)} s.` +
        (r.mode === "attach"
          ? " If the partition is still past its retention, the next archive run archives it again (reusing the same archive) and drops it."
          : "");
      break;
  }
  if (r.columnsFrom === "manifest") text += " Columns were created from the manifest's types (the parent is gone or its columns changed).";
  const sql = r.status === "planned" ? r.statements.map((s) => `    ${s.startsWith("--") ? s : `${s};`}`) : [];
  return [text, ...sql].join("\n");
}
