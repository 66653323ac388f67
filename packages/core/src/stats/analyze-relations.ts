import type { Sql } from "../db/client.ts";
import { quoteQualified } from "../db/sql-text.ts";
import { displayName, qualifiedName, type QualifiedName } from "../identifier.ts";
import type { StatsWorkStatus } from "../records/stats-refreshes.ts";
import type { AnalyzeThreshold, AnalyzeTarget, PartitionAnalyzeState } from "./plan-analyze.ts";

/** PostgreSQL 18 added `ANALYZE ONLY` for a partitioned table's own statistics (release notes, 18). */
const ANALYZE_ONLY_VERSION = 180_000;

/** The server's analyze capabilities and autovacuum's analyze threshold (its settings, not per-table overrides). */
export async function readAnalyzeSettings(sql: Sql): Promise<{ analyzeOnly: boolean; threshold: AnalyzeThreshold }> {
  const [row] = await sql`
    select current_setting('server_version_num')::int as version,
      current_setting('autovacuum_analyze_threshold')::float8 as base,
      current_setting('autovacuum_analyze_scale_factor')::float8 as scale`;
  return { analyzeOnly: row!.version >= ANALYZE_ONLY_VERSION, threshold: { base: row!.base, scale: row!.scale } };
}

/**
 * Every plain partition of `parents` (one set-based query over pg_inherits and pg_stat_all_tables).
 * Parents that do not exist are left out (their problem is reported elsewhere).
 */
export async function readPartitionAnalyzeStates(sql: Sql, parents: ReadonlyArray<QualifiedName>): Promise<PartitionAnalyzeState[]> {
  const rows = await sql`
    select pn.nspname as parent_schema, p.relname as parent_name, n.nspname as schema, c.relname as name,
      greatest(s.last_analyze, s.last_autoanalyze) as last_analyzed, coalesce(s.n_mod_since_analyze, 0)::float8 as modified, c.reltuples::float8 as reltuples
    from unnest(${parents.map((p) => quoteQualified(p))}::text[]) as wanted(name)
    join pg_catalog.pg_inherits i on i.inhparent = to_regclass(wanted.name)
    join pg_catalog.pg_class p on p.oid = i.inhparent
    join pg_catalog.pg_namespace pn on pn.oid = p.relnamespace
    join pg_catalog.pg_class c on c.oid = i.inhrelid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    left join pg_catalog.pg_stat_all_tables s on s.relid = c.oid
    where c.relkind = 'r'`;
  return rows.map((r) => ({
    parent: qualifiedName(r.parent_schema, r.parent_name),
    partition: qualifiedName(r.schema, r.name),
    lastAnalyzed: r.last_analyzed === null ? null : new Date(r.last_analyzed),
    modifiedSinceAnalyze: r.modified,
    reltuples: r.reltuples,
  }));
}

export interface AnalyzeOutcome {
  readonly status: StatsWorkStatus;
  /** `only` (a parent alone, PostgreSQL 18+), `parent` (a parent and its partitions) or `partition`. */
  readonly mode: "only" | "parent" | "partition";
  readonly durationMs: number;
  /** The relation's row estimate after the analyze (pg_class.reltuples); null unless ok. */
  readonly rows: number | null;
  readonly message: string | null;
}

/**
 * ANALYZEs one target under `lock_timeout` (ANALYZE takes SHARE UPDATE EXCLUSIVE: writers go on, a
 * running VACUUM or DDL makes it wait) and `statement_timeout` = what is left of the budget. Never
 * throws for the relation's own problems: they are the outcome.
 */
export async function analyzeRelation(
  sql: Sql,
  target: AnalyzeTarget,
  limits: { readonly lockTimeoutMs: number; readonly budgetMs: number; readonly analyzeOnly: boolean },
): Promise<AnalyzeOutcome> {
  const started = performance.now();
  const mode = target.kind === "partition" ? "partition" : limits.analyzeOnly ? "only" : "parent";
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const rows = await sql.begin(async (tx) => {
      await tx`select set_config('lock_timeout', ${`${limits.lockTimeoutMs}ms`}, true), set_config('statement_timeout', ${`${Math.max(1, Math.round(limits.budgetMs))}ms`}, true)`;
      await tx.unsafe(`analyze ${mode === "only" ? "only " : ""}${quoteQualified(target.relation)}`);
      const [row] = await tx`select nullif(reltuples, -1)::float8 as rows from pg_catalog.pg_class where oid = to_regclass(${quoteQualified(target.relation)})`;
      return (row?.rows as number | null) ?? null;
    });
    return { status: "ok", mode, durationMs: elapsed(), rows, message: null };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const name = displayName(target.relation);
    if (code === "57014") return { status: "stopped", mode, durationMs: elapsed(), rows: null, message: `${name}: ANALYZE ran past the budget (stats.budgetSeconds) and was cancelled; the next run does it` };
    if (code === "55P03") return { status: "failed", mode, durationMs: elapsed(), rows: null, message: `${name}: not locked within lock_timeout ${limits.lockTimeoutMs} ms (a VACUUM or DDL holds it); the next run tries again` };
    return { status: "failed", mode, durationMs: elapsed(), rows: null, message: `${name}: ${(error as Error).message}` };
  }
}
