import { Command, Option } from "commander";
import { formatRestoreResult, RESTORE_MODES, restorePartition, type RestoreMode } from "@partkeeper/core";
import { action, EXIT, UsageError, withJobContext, type ConnectionOptions } from "../command-base.ts";
import { connectionOptions, parseTables } from "./connection-options.ts";

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
  return connectionOptions(
    new Command("restore")
      .description(
        "Restore an archived partition from its Parquet archive: into a side table (default) or attached to its parent again (--mode attach).",
      )
      .requiredOption("--partition <name>", "the archived partition's name, e.g. workflow_events_p2025_01 (in the parent's schema)")
      .addOption(new Option("--mode <mode>", "side-table: a new, unattached table; attach: back under the parent").choices(RESTORE_MODES).default("side-table"))
      .option("--target <name>", "side-table mode: the new table's name (default <partition>_restored)")
      .option("--dry-run", "print the SQL restore would run, change nothing")
      .option("--json", "print the result as JSON")
      .addHelpText("after", EXAMPLES),
    { parent: "the parent the partition was archived from" },
  ).action(action(restore));
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
    process.stdout.write(`${options.json ? JSON.stringify(result, null, 2) : formatRestoreResult(result)}\n`);
    return EXIT.ok;
  });
}
