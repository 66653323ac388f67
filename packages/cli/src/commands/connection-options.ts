import { Command } from "commander";
import { qualifiedName, type QualifiedName } from "@partkeeper/core";
import { UsageError } from "../command-base.ts";

/**
 * Adds the options every database command shares (read by withJobContext; --table by parseTables).
 * `--table` is a repeatable filter of the configured parents, or, with `parent` (its help text),
 * the one parent the command works on, required; with `parent: null`, absent (the migrate
 * commands name a migration by --id instead).
 */
export function connectionOptions(command: Command, options: { parent?: string | null } = {}): Command {
  command
    .requiredOption("-c, --config <file>", "partkeeper.config.json (or .ts/.js with a default export)")
    .option("--archive <location>", "archive location s3://bucket/prefix (overrides the config's archive.location)")
    .option("--database-url <url>", "Postgres connection URL (default: $DATABASE_URL)");
  if (options.parent === undefined) command.option("--table <schema.table...>", "limit to these parents (schema and table split at the first dot)");
  else if (options.parent !== null) command.requiredOption("--table <schema.table>", `${options.parent} (schema and table split at the first dot)`);
  return command.option("-v, --verbose", "log every step as JSON lines on stderr");
}

/** `--table public.events` -> `{schema: "public", name: "events"}`; the first dot separates schema and table. */
export function parseTables(values: ReadonlyArray<string> | undefined): QualifiedName[] | undefined {
  return values?.map((v) => {
    const dot = v.indexOf(".");
    if (dot <= 0) throw new UsageError(`--table ${v}: use schema.table, e.g. public.workflow_events`);
    return qualifiedName(v.slice(0, dot), v.slice(dot + 1));
  });
}
