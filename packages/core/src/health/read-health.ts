import { readCatalog } from "../catalog/read-catalog.ts";
import type { ParentInfo } from "../catalog/types.ts";
import type { Config, TablePolicy } from "../config/schema.ts";
import { selectTables } from "../config/select-tables.ts";
import type { JobContext } from "../context.ts";
import type { Sql } from "../db/client.ts";
import { schemaVersion } from "../db/migrate.ts";
import { displayName, qualifiedName, sameName, type QualifiedName } from "../identifier.ts";
import { checkManageable } from "../plan/check-manageable.ts";
import type { HealthReport, MaterializedViewHealth, ParentHealth, PartitionHealth, PartitionState } from "./health-types.ts";

/** The schema version that has the health views (migration 0006). */
const HEALTH_SCHEMA = 6;

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());
const num = (value: string | number | null): number | null => (value === null ? null : Number(value));

/**
 * The health of every configured parent (or those in `only`) and materialized view at the context's
 * clock, read from `partkeeper.parent_health(at)` and `partkeeper.partition_health(at)` (two
 * set-based queries however many parents) and one catalog snapshot (partition sizes, and
 * checkManageable's refusal as the parent's problem). Changes nothing. A configured parent
 * no job has recorded yet (a new config entry, or no run since the schema has the views) is reported
 * with a problem saying so.
 * @throws ConfigError when `only` names a table that is not in the config.
 */
export async function readHealth(ctx: Pick<JobContext, "sql" | "config" | "clock">, only?: ReadonlyArray<QualifiedName>): Promise<HealthReport> {
  const at = ctx.clock();
  const policies = selectTables(ctx.config, only);
  const installed = (await schemaVersion(ctx.sql)) >= HEALTH_SCHEMA;
  const recorded = installed ? await readParents(ctx.sql, at) : [];
  const partitions = installed ? await readPartitions(ctx.sql, at) : [];
  // The catalog snapshot gives what the views cannot: the planner's refusals, and the partitions' sizes.
  const snapshot = await readCatalog(ctx.sql, policies.map((p) => ({ name: p.parent, wantMaxKey: false })));
  const parents = policies.map((policy): ParentHealth => {
    const row = recorded.find((r) => sameName(r.parent, policy.parent));
    if (!row) return notRecorded(policy.parent, policy.strategy);
    const info = snapshot.parents.find((p) => sameName(p.parent, policy.parent));
    const bytes = (p: PartitionHealth) => info?.partitions.find((x) => sameName(x.name, p.partition))?.bytes ?? p.bytes;
    return {
      ...row,
      problem: refusal(policy, info) ?? (row.problem === null ? null : `${displayName(policy.parent)} ${row.problem}`),
      partitionList: partitions.filter((p) => sameName(p.parent, policy.parent)).map((p) => ({ ...p.health, bytes: bytes(p.health) })),
    };
  });
  return { at: at.toISOString(), parents, materializedViews: installed ? await readViews(ctx.sql, ctx.config, at) : notRefreshed(ctx.config) };
}

/** checkManageable's refusal of the parent (sub-partitioned, another strategy, ...), or null. */
function refusal(policy: TablePolicy, info: ParentInfo | undefined): string | null {
  if (!info) return null;
  try {
    checkManageable(policy, info);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

function notRecorded(parent: QualifiedName, strategy: ParentHealth["strategy"]): ParentHealth {
  return {
    parent,
    strategy,
    problem: "no partkeeper job has run on it yet (its health is recorded by maintain, archive and refresh-stats runs)",
    partitions: 0,
    partitionsAhead: null,
    aheadUntil: null,
    defaultPartitionRows: null,
    oldestExpiring: null,
    archiveBacklog: 0,
    lastSuccess: { maintain: null, archive: null, "refresh-stats": null },
    failedRuns24h: 0,
    partitionList: [],
  };
}

async function readParents(sql: Sql, at: Date): Promise<Omit<ParentHealth, "partitionList">[]> {
  const rows = await sql`select * from partkeeper.parent_health(${at})`;
  return rows.map((r) => ({
    parent: qualifiedName(r.parent_schema, r.parent_name),
    strategy: r.strategy,
    problem: r.problem ?? null,
    partitions: Number(r.partitions),
    partitionsAhead: num(r.partitions_ahead),
    aheadUntil: r.ahead_until ?? null,
    defaultPartitionRows: num(r.default_partition_rows),
    oldestExpiring: r.oldest_expiring === null ? null : qualifiedName(r.parent_schema, r.oldest_expiring),
    archiveBacklog: Number(r.archive_backlog),
    lastSuccess: { maintain: iso(r.last_maintain), archive: iso(r.last_archive), "refresh-stats": iso(r.last_refresh_stats) },
    failedRuns24h: Number(r.failed_runs_24h),
  }));
}

async function readPartitions(sql: Sql, at: Date): Promise<{ parent: QualifiedName; health: PartitionHealth }[]> {
  // Live partitions' sizes come from the catalog snapshot: pg_total_relation_size runs once per partition.
  const rows = await sql`
    select h.*, h.archived_bytes as bytes
    from partkeeper.partition_health(${at}) h
    order by h.parent_schema, h.parent_name, h.state = 'default', h.bound_order nulls last, h.partition_name`;
  return rows.map((r) => ({
    parent: qualifiedName(r.parent_schema, r.parent_name),
    health: {
      partition: qualifiedName(r.partition_schema, r.partition_name),
      bounds: r.bounds,
      lower: r.lower_bound ?? null,
      upper: r.upper_bound ?? null,
      state: r.state as PartitionState,
      rows: num(r.rows),
      bytes: num(r.bytes),
      lastAnalyze: iso(r.last_analyze),
      lastAutovacuum: iso(r.last_autovacuum),
    },
  }));
}

async function readViews(sql: Sql, config: Config, at: Date): Promise<MaterializedViewHealth[]> {
  const rows = await sql`select * from partkeeper.materialized_views`;
  return config.stats.materializedViews.map(({ view }) => {
    const r = rows.find((row) => sameName(qualifiedName(row.view_schema, row.view_name), view));
    if (!r) return { view, lastRefresh: null, ageSeconds: null, lastStatus: null, lastDurationMs: null, lastMessage: null };
    const lastRefresh = iso(r.last_refresh_at);
    return {
      view,
      lastRefresh,
      ageSeconds: lastRefresh === null ? null : Math.max(0, Math.round((at.getTime() - Date.parse(lastRefresh)) / 1000)),
      lastStatus: r.last_status,
      lastDurationMs: Math.round(r.last_duration_ms),
      lastMessage: r.last_message ?? null,
    };
  });
}

function notRefreshed(config: Config): MaterializedViewHealth[] {
  return config.stats.materializedViews.map(({ view }) => ({ view, lastRefresh: null, ageSeconds: null, lastStatus: null, lastDurationMs: null, lastMessage: null }));
}
