import { readCatalog } from "../catalog/read-catalog.ts";
import type { ParentInfo } from "../catalog/types.ts";
import type { Config, Strategy, TablePolicy } from "../config/schema.ts";
import { selectTables } from "../config/select-tables.ts";
import type { JobContext } from "../context.ts";
import type { Sql } from "../db/client.ts";
import { schemaVersion } from "../db/migrate.ts";
import { displayName, nameKey, qualifiedName, sameName, type QualifiedName } from "../identifier.ts";
import { checkManageable } from "../plan/check-manageable.ts";
import type { HealthReport, MaterializedViewHealth, ParentHealth, PartitionHealth, PartitionState } from "./health-types.ts";

/** The schema version whose health functions readHealth reads (migration 0007: parent_status). */
const HEALTH_SCHEMA = 7;

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());
const num = (value: string | number | null): number | null => (value === null ? null : Number(value));

/** The ParentHealth values counted over the parent's partitions. */
type PartitionCount = "partitions" | "partitionsAhead" | "aheadUntil" | "oldestExpiring" | "archiveBacklog";
/** What `partkeeper.parent_status(at)` says of a parent: the rest of its ParentHealth. */
type ParentStatus = Omit<ParentHealth, PartitionCount | "partitionList">;

/**
 * The health of every configured parent (or those in `only`) and materialized view at the context's
 * clock, read from `partkeeper.parent_status(at)` and `partkeeper.partition_health(at)` (two
 * set-based queries however many parents; the values over a parent's partitions are counted here,
 * as `partkeeper.parent_health(at)` counts them) and one catalog snapshot (partition sizes, and
 * checkManageable's refusal as the parent's problem). Changes nothing. A configured parent no job has
 * recorded yet (a new config entry, or no run since the schema has the views) is reported with a
 * problem saying so.
 * @throws ConfigError when `only` names a table that is not in the config.
 */
export async function readHealth(ctx: Pick<JobContext, "sql" | "config" | "clock">, only?: ReadonlyArray<QualifiedName>): Promise<HealthReport> {
  const at = ctx.clock();
  const policies = selectTables(ctx.config, only);
  const installed = (await schemaVersion(ctx.sql)) >= HEALTH_SCHEMA;
  const statuses = installed ? await readParentStatuses(ctx.sql, at) : new Map<string, ParentStatus>();
  const partitions = installed ? await readPartitions(ctx.sql, at) : new Map<string, PartitionHealth[]>();
  // The catalog snapshot gives what the views cannot: the planner's refusals, and the partitions' sizes.
  const snapshot = await readCatalog(ctx.sql, policies.map((p) => ({ name: p.parent, wantMaxKey: false })));
  const infos = new Map(snapshot.parents.map((info) => [nameKey(info.parent), info]));
  const parents = policies.map((policy): ParentHealth => {
    const status = statuses.get(nameKey(policy.parent));
    if (!status) return notRecorded(policy.parent, policy.strategy);
    const info = infos.get(nameKey(policy.parent));
    const sizes = new Map(info?.partitions.map((p) => [nameKey(p.name), p.bytes]));
    const partitionList = (partitions.get(nameKey(policy.parent)) ?? []).map((p) => ({ ...p, bytes: sizes.get(nameKey(p.partition)) ?? p.bytes }));
    const counts = partitionCounts(status.strategy, partitionList);
    return {
      parent: status.parent,
      strategy: status.strategy,
      problem: refusal(policy, info) ?? (status.problem === null ? null : `${displayName(policy.parent)} ${status.problem}`),
      partitions: counts.partitions,
      partitionsAhead: counts.partitionsAhead,
      aheadUntil: counts.aheadUntil,
      defaultPartitionRows: status.defaultPartitionRows,
      oldestExpiring: counts.oldestExpiring,
      archiveBacklog: counts.archiveBacklog,
      lastSuccess: status.lastSuccess,
      failedRuns24h: status.failedRuns24h,
      partitionList,
    };
  });
  return { at: at.toISOString(), parents, materializedViews: installed ? await readViews(ctx.sql, ctx.config, at) : notRefreshed(ctx.config) };
}

/**
 * A parent's values over its partitions (in bound order, as readPartitions reads them) by the rules of
 * `partkeeper.parent_health(at)` (migration 0007): partitions in the database; for range strategies,
 * those in state `future` and the upper bound of the last current or future one; the first partition
 * in state `expiring` and how many are.
 */
function partitionCounts(strategy: Strategy, partitions: ReadonlyArray<PartitionHealth>): Pick<ParentHealth, PartitionCount> {
  const range = strategy === "range-time" || strategy === "range-integer";
  const last = partitions.filter((p) => p.state === "current" || p.state === "future").at(-1);
  const expiring = partitions.filter((p) => p.state === "expiring");
  return {
    partitions: partitions.filter((p) => p.state !== "archived").length,
    partitionsAhead: range ? partitions.filter((p) => p.state === "future").length : null,
    aheadUntil: range ? (last?.upper ?? null) : null,
    oldestExpiring: expiring[0]?.partition ?? null,
    archiveBacklog: expiring.length,
  };
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

async function readParentStatuses(sql: Sql, at: Date): Promise<Map<string, ParentStatus>> {
  const rows = await sql`select * from partkeeper.parent_status(${at})`;
  return new Map(
    rows.map((r): [string, ParentStatus] => {
      const parent = qualifiedName(r.parent_schema, r.parent_name);
      return [
        nameKey(parent),
        {
          parent,
          strategy: r.strategy,
          problem: r.problem ?? null,
          defaultPartitionRows: num(r.default_partition_rows),
          lastSuccess: { maintain: iso(r.last_maintain), archive: iso(r.last_archive), "refresh-stats": iso(r.last_refresh_stats) },
          failedRuns24h: Number(r.failed_runs_24h),
        },
      ];
    }),
  );
}

/** Each parent's partitions in bound order (the default partition last), by nameKey of the parent. */
async function readPartitions(sql: Sql, at: Date): Promise<Map<string, PartitionHealth[]>> {
  // Live partitions' sizes come from the catalog snapshot: pg_total_relation_size runs once per partition.
  const rows = await sql`
    select h.*, h.archived_bytes as bytes
    from partkeeper.partition_health(${at}) h
    order by h.parent_schema, h.parent_name, h.state = 'default', h.bound_order nulls last, h.partition_name`;
  const byParent = new Map<string, PartitionHealth[]>();
  for (const r of rows) {
    const key = nameKey(qualifiedName(r.parent_schema, r.parent_name));
    let list = byParent.get(key);
    if (!list) byParent.set(key, (list = []));
    list.push({
      partition: qualifiedName(r.partition_schema, r.partition_name),
      bounds: r.bounds,
      lower: r.lower_bound ?? null,
      upper: r.upper_bound ?? null,
      state: r.state as PartitionState,
      rows: num(r.rows),
      bytes: num(r.bytes),
      lastAnalyze: iso(r.last_analyze),
      lastAutovacuum: iso(r.last_autovacuum),
    });
  }
  return byParent;
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
