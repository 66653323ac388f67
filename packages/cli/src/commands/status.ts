import { Command } from "commander";
import { displayName, readStatus } from "@partkeeper/core";
import { action, EXIT, withJobContext, type ConnectionOptions } from "../command-base.ts";
import { connectionOptions, parseTables } from "./connection-options.ts";

/** `partkeeper status`: read-only health of every configured parent and the latest runs. */
export function statusCommand(): Command {
  return connectionOptions(
    new Command("status")
      .description("Show each parent's partitions, partitions ahead, default-partition rows, unfinished archives, and recent runs. Changes nothing.")
      .option("--json", "print the report as JSON")
      .addHelpText("after", "\nExample:\n  DATABASE_URL=postgres://... partkeeper status --config partkeeper.config.json"),
  ).action(
    action(async (options: ConnectionOptions & { json?: boolean; table?: string[] }) =>
      withJobContext(options, async (ctx) => {
        const report = await readStatus(ctx, parseTables(options.table));
        if (options.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        } else {
          for (const p of report.parents) {
            const facts = p.problem
              ? `PROBLEM: ${p.problem}`
              : [
                  `${p.partitions} partitions, ${(p.bytes / 1024 / 1024).toFixed(1)} MB`,
                  p.partitionsAhead === null ? null : `${p.partitionsAhead} ahead`,
                  p.defaultPartitionRows === null ? null : `${p.defaultPartitionRows} rows in default partition`,
                  p.unfinishedArchives.length ? `unfinished archives: ${p.unfinishedArchives.join(", ")}` : null,
                ]
                  .filter(Boolean)
                  .join("; ");
            process.stdout.write(`${displayName(p.parent)}: ${facts}\n`);
          }
          for (const r of report.recentRuns) {
            process.stdout.write(`  run ${r.startedAt} ${r.job} ${r.status}${r.durationMs === null ? "" : ` ${r.durationMs} ms`}${r.error ? `: ${r.error.split("\n")[0]}` : ""}\n`);
          }
        }
        return report.parents.some((p) => p.problem) ? EXIT.failed : EXIT.ok;
      }),
    ),
  );
}
