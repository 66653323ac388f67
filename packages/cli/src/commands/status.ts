import { Command } from "commander";
import { formatHealth, readHealth, type HealthReport } from "@partkeeper/core";
import { action, EXIT, withJobContext, type ConnectionOptions } from "../command-base.ts";
import { healthTextOptions } from "../terminal.ts";
import { connectionOptions, parseTables } from "./connection-options.ts";

const EXAMPLES = `
Example:
  DATABASE_URL=postgres://... partkeeper status --config partkeeper.config.json

Each parent's timeline has one cell per partition, oldest first: · archived, ! expired and not yet archived,
▒ past, █ current, ░ premade (future), R restored, D default partition, ■ list or hash partition; ░×40 is
40 of them in a row. Colour in a terminal unless NO_COLOR is set. Exit code 1 when a parent has a problem.`;

/** Exit code of a health read: 1 (failed) when any parent has a problem (missing, not partitioned, never run), so scripts and alarms notice. */
export function healthExitCode(report: HealthReport): number {
  return report.parents.some((p) => p.problem !== null) ? EXIT.failed : EXIT.ok;
}

/** `partkeeper status`: read-only health of every configured parent, as a timeline per parent, or as JSON. */
export function statusCommand(): Command {
  return connectionOptions(
    new Command("status")
      .description(
        "Show each parent's partitions as a timeline by state, partitions ahead, default-partition rows, archive backlog, last successful runs, failed runs, and the materialized views. Changes nothing.",
      )
      .option("--json", "print the health report as JSON")
      .addHelpText("after", EXAMPLES),
  ).action(
    action(async (options: ConnectionOptions & { json?: boolean; table?: string[] }) =>
      withJobContext(options, async (ctx) => {
        const report = await readHealth(ctx, parseTables(options.table));
        if (options.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        } else {
          process.stdout.write(formatHealth(report, healthTextOptions()));
        }
        return healthExitCode(report);
      }),
    ),
  );
}
