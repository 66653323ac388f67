import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { readHealth, renderHtmlReport } from "@partkeeper/core";
import { action, withJobContext, type ConnectionOptions } from "../command-base.ts";
import { connectionOptions, parseTables } from "./connection-options.ts";
import { healthExitCode } from "./status.ts";

const EXAMPLES = `
Example:
  DATABASE_URL=postgres://... partkeeper report --config partkeeper.config.json --html health.html

The page is one self-contained file (inline CSS and SVG, no script): open it offline or attach it to a ticket.
Exit code 1 when a parent has a problem, as for status; the page is written either way.`;

/** `partkeeper report --html <file>`: the health of `status` as one HTML page with a timeline chart per parent. */
export function reportCommand(): Command {
  return connectionOptions(
    new Command("report")
      .description("Write the health of every configured parent (timeline by state, sizes, health values) and the materialized views as one HTML page. Changes nothing in the database.")
      .requiredOption("--html <file>", "the HTML file to write (overwritten)")
      .addHelpText("after", EXAMPLES),
  ).action(
    action(async (options: ConnectionOptions & { html: string; table?: string[] }) =>
      withJobContext(options, async (ctx) => {
        const report = await readHealth(ctx, parseTables(options.table));
        const file = path.resolve(options.html);
        await writeFile(file, renderHtmlReport(report));
        process.stdout.write(`${file}\n`);
        return healthExitCode(report);
      }),
    ),
  );
}
