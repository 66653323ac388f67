import { Command } from "commander";
import { formatJobFailure, formatJobSummary, formatRefreshStatsSummary, ConfigError, LIFECYCLE_JOBS, runJob, runRefreshStats, type JobSelection } from "@partkeeper/core";
import { action, EXIT, withJobContext, type ConnectionOptions } from "../command-base.ts";
import { connectionOptions, parseTables } from "./connection-options.ts";

const JOB_CHOICES = [...LIFECYCLE_JOBS, "lifecycle", "refresh-stats"] as const;
type JobChoice = (typeof JOB_CHOICES)[number];

interface RunOptions extends ConnectionOptions {
  dryRun?: boolean;
  json?: boolean;
  table?: string[];
}

/** `partkeeper run [job]`: applies the plan (or, with --dry-run, prints it). */
export function runCommand(): Command {
  return connectionOptions(
    new Command("run")
      .description(
        "Run a job against the database: maintain (create future partitions), archive (archive expired ones), lifecycle (both), " +
          "or refresh-stats (refresh materialized views, analyze parents and new partitions).",
      )
      .addArgument(new Command().createArgument("[job]", "maintain | archive | lifecycle | refresh-stats").choices(JOB_CHOICES).default("lifecycle"))
      .option("--dry-run", "print what would be done, change nothing (same as `plan`)")
      .option("--json", "print the summary as JSON")
      .addHelpText(
        "after",
        "\nExamples:\n  DATABASE_URL=postgres://... partkeeper run --config partkeeper.config.json\n  partkeeper run maintain --config partkeeper.config.json --table public.workflow_events",
      ),
  ).action(action((job: JobChoice, options: RunOptions) => execute(job, options, Boolean(options.dryRun))));
}

/** `partkeeper plan [job]`: prints every action and its SQL without changing anything. */
export function planCommand(): Command {
  return connectionOptions(
    new Command("plan")
      .description("Print every action `run` would take, with its SQL, without changing anything.")
      .addArgument(new Command().createArgument("[job]", "maintain | archive | lifecycle | refresh-stats").choices(JOB_CHOICES).default("lifecycle"))
      .option("--json", "print the plan as JSON")
      .addHelpText("after", "\nExample:\n  DATABASE_URL=postgres://... partkeeper plan --config partkeeper.config.json"),
  ).action(action((job: JobChoice, options: RunOptions) => execute(job, options, true)));
}

async function execute(job: JobChoice, options: RunOptions, dryRun: boolean): Promise<number> {
  if (job === "refresh-stats") return refreshStats(options, dryRun);
  return withJobContext(options, async (ctx) => {
    const summary = await runJob(ctx, { job: job satisfies JobSelection, dryRun, only: parseTables(options.table) });
    process.stdout.write(`${options.json ? JSON.stringify(summary, null, 2) : formatJobSummary(summary)}\n`);
    const failure = formatJobFailure(summary);
    if (failure === null) return EXIT.ok;
    process.stderr.write(`partkeeper: ${failure}\n`);
    return EXIT.failed;
  });
}


/** refresh-stats covers every configured view and parent: `--table` does not select among them. */
async function refreshStats(options: RunOptions, dryRun: boolean): Promise<number> {
  if (options.table?.length) throw new ConfigError("--table does not apply to refresh-stats: it refreshes every view of stats.materializedViews and analyzes every configured parent");
  return withJobContext(options, async (ctx) => {
    const summary = await runRefreshStats(ctx, { dryRun });
    process.stdout.write(`${options.json ? JSON.stringify(summary, null, 2) : formatRefreshStatsSummary(summary)}\n`);
    if (summary.ok) return EXIT.ok;
    process.stderr.write("partkeeper: refresh-stats: some views or relations failed (listed above)\n");
    return EXIT.failed;
  });
}
