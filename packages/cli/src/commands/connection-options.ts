import { Command } from "commander";
import { qualifiedName, type QualifiedName } from "@partkeeper/core";
import { UsageError } from "../command-base.ts";

/** Adds the options every database command shares. */
export function connectionOptions(command: Command): Command {
  return command
    .requiredOption("-c, --config <file>", "partkeeper.config.json (or .ts/.js with a default export)")
    .option("--archive <location>", "archive location s3://bucket/prefix (overrides the config's archive.location)")
    .option("--database-url <url>", "Postgres connection URL (default: $DATABASE_URL)")
    .option("--table <schema.table...>", "limit to these parents (schema and table split at the first dot)")
    .option("-v, --verbose", "log every step as JSON lines on stderr");
}

/** `--table public.events` -> `{schema: "public", name: "events"}`; the first dot separates schema and table. */
export function parseTables(values: ReadonlyArray<string> | undefined): QualifiedName[] | undefined {
  return values?.map((v) => {
    const dot = v.indexOf(".");
    if (dot <= 0) throw new UsageError(`--table ${v}: use schema.table, e.g. public.workflow_events`);
    return qualifiedName(v.slice(0, dot), v.slice(dot + 1));
  });
}
