import { afterAll } from "vitest";
import { openJobContext, parseConfig, silentLogger, type ConfigInput, type JobContext, type Metrics } from "@partkeeper/core";

/**
 * Opens a real job context (Postgres pool, S3 store, scratch dir) on a test database, with a
 * fixed clock; closed after the file's tests.
 */
export async function testJobContext(
  databaseUrl: string,
  config: ConfigInput,
  options: { now?: Date; metrics?: Metrics; memoryMb?: number } = {},
): Promise<JobContext> {
  const now = options.now ?? new Date("2026-11-21T12:00:00Z");
  const { ctx, close } = await openJobContext({
    databaseUrl,
    env: process.env,
    config: parseConfig(config),
    logger: silentLogger,
    metrics: options.metrics,
    clock: () => now,
    ...(options.memoryMb === undefined ? {} : { memoryMb: options.memoryMb }),
  });
  afterAll(close);
  return ctx;
}

/** Partition names of `schema.parent`, sorted, read from the catalog. */
export async function partitionNames(sql: JobContext["sql"], schema: string, parent: string): Promise<string[]> {
  const rows = await sql`
    select c.relname from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    join pg_class p on p.oid = i.inhparent
    join pg_namespace n on n.oid = p.relnamespace
    where n.nspname = ${schema} and p.relname = ${parent}
    order by c.relname`;
  return rows.map((r) => r.relname as string);
}
