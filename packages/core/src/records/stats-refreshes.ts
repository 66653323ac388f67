import type { Sql } from "../db/client.ts";
import { qualifiedName, type QualifiedName } from "../identifier.ts";

/** `partkeeper.stats_refresh` (migration 0006): one row per materialized view refresh and per ANALYZE of the refresh-stats job. */

export type StatsWorkStatus = "ok" | "failed" | "skipped" | "stopped";

export interface StatsWorkRecord {
  readonly kind: "refresh" | "analyze";
  readonly relation: QualifiedName;
  /** refresh: `concurrently` or `plain`; analyze: `only` (the parent alone), `parent` (with its partitions) or `partition`. */
  readonly mode: string;
  readonly status: StatsWorkStatus;
  readonly startedAt: Date;
  readonly durationMs: number;
  /** Rows of the view after its refresh, or the relation's estimate after its analyze; null when it failed. */
  readonly rows: number | null;
  readonly message: string | null;
}

/** Records one refresh or analyze of run `jobRunId`. */
export async function recordStatsWork(sql: Sql, jobRunId: number, work: StatsWorkRecord): Promise<void> {
  await sql`
    insert into partkeeper.stats_refresh (job_run_id, kind, relation_schema, relation_name, mode, status, started_at, duration_ms, rows, message)
    values (${jobRunId}, ${work.kind}, ${work.relation.schema}, ${work.relation.name}, ${work.mode}, ${work.status}, ${work.startedAt},
      ${work.durationMs}, ${work.rows}, ${work.message})`;
}

/** Per relation of `kind`, its last successful run (UTC), for relations that have one. */
export async function lastSuccessful(sql: Sql, kind: "refresh" | "analyze"): Promise<Array<{ relation: QualifiedName; at: Date }>> {
  const rows = await sql`
    select relation_schema, relation_name, max(started_at) as at from partkeeper.stats_refresh
    where kind = ${kind} and status = 'ok' group by relation_schema, relation_name`;
  return rows.map((r) => ({ relation: qualifiedName(r.relation_schema, r.relation_name), at: new Date(r.at) }));
}
