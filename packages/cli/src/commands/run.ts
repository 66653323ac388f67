import { Command } from "commander";
import { formatJobFailure, formatJobSummary, LIFECYCLE_JOBS, runJob, type JobSelection } from "@partkeeper/core";
import { action, EXIT, withJobContext, type ConnectionOptions } from "../command-base.ts";
import { connectionOptions, parseTables } from "./connection-options.ts";

const JOB_CHOICES = [...LIFECYCLE_JOBS, "lifecycle"] as const;

interface RunOptions extends ConnectionOptions {
  dryRun?: boolean;
  json?: boolean;
  table?: string[];
}

/** `partkeeper run [job]`: applies the plan (or, with --dry-run, prints it). */
export function runCommand(): Command {
  return connectionOptions(
    new Command("run")
      .description("Run a job against the database: maintain (create future partitions), archive (archive expired ones), or lifecycle (both).")
      .addArgument(new Command().createArgument("[job]", "maintain | archive | lifecycle").choices(JOB_CHOICES).default("lifecycle"))
      .option("--dry-run", "print what would be done, change nothing (same as `plan`)")
      .option("--json", "print the summary as JSON")
      .addHelpText(
        "after",
        "\nExamples:\n  DATABASE_URL=postgres://... partkeeper run --config partkeeper.config.json\n  partkeeper run maintain --config partkeeper.config.json --table public.workflow_events",
      ),
  ).action(action((job: JobSelection, options: RunOptions) => execute(job, options, Boolean(options.dryRun))));
}

/** `partkeeper plan [job]`: prints every action and its SQL without changing anything. */
export function planCommand(): Command {
  return connectionOptions(
    new Command("plan")
      .description("Print every action `run` would take, with its SQL, without changing anything.")
      .addArgument(new Command().createArgument("[job]", "maintain | archive | lifecycle").choices(JOB_CHOICES).default("lifecycle"))
      .option("--json", "print the plan as JSON")
      .addHelpText("after", "\nExample:\n  DATABASE_URL=postgres://... partkeeper plan --config partkeeper.config.json"),
  ).action(action((job: JobSelection, options: RunOptions) => execute(job, options, true)));
}

async function execute(job: JobSelection, options: RunOptions, dryRun: boolean): Promise<number> {
  return withJobContext(options, async (ctx) => {
    const summary = await runJob(ctx, { job, dryRun, only: parseTables(options.table) });
    process.stdout.write(`${options.json ? JSON.stringify(summary, null, 2) : formatJobSummary(summary)}\n`);
    const failure = formatJobFailure(summary);
    if (failure === null) return EXIT.ok;
    process.stderr.write(`partkeeper: ${failure}\n`);
    return EXIT.failed;
  });
}

