import { addCalendarDuration, type CalendarDuration } from "../config/duration.ts";
import { sameName, type QualifiedName } from "../identifier.ts";

/** A managed parent as the analyze planner sees it. */
export interface ParentAnalyzeState {
  readonly parent: QualifiedName;
  /** Last successful ANALYZE by partkeeper (autovacuum never analyzes a partitioned parent); null when never. */
  readonly lastAnalyzed: Date | null;
}

/** A partition of a managed parent, from pg_class and pg_stat_all_tables. */
export interface PartitionAnalyzeState {
  readonly partition: QualifiedName;
  readonly parent: QualifiedName;
  /** Last ANALYZE, manual or autovacuum's; null when never. */
  readonly lastAnalyzed: Date | null;
  /** Rows inserted, updated or deleted since that analyze (pg_stat_all_tables.n_mod_since_analyze). */
  readonly modifiedSinceAnalyze: number;
  /** pg_class.reltuples: rows at the last analyze or vacuum; -1 when never. */
  readonly reltuples: number;
}

/** Autovacuum's analyze trigger: base + scale x reltuples changed rows (autovacuum_analyze_threshold / _scale_factor). */
export interface AnalyzeThreshold {
  readonly base: number;
  readonly scale: number;
}

export interface AnalyzeTarget {
  readonly relation: QualifiedName;
  /** The managed parent: the relation itself, or the partition's parent. */
  readonly parent: QualifiedName;
  readonly kind: "parent" | "partition";
  /** Why, for the summary and the record: "never analyzed", "1,234 rows changed since 2026-11-20T...". */
  readonly reason: string;
}

export interface AnalyzePlanInput {
  readonly parents: ReadonlyArray<ParentAnalyzeState>;
  readonly partitions: ReadonlyArray<PartitionAnalyzeState>;
  readonly now: Date;
  readonly settings: { readonly parents: boolean; readonly parentsEvery: CalendarDuration; readonly partitions: boolean };
  readonly threshold: AnalyzeThreshold;
  /**
   * Whether ANALYZE of a parent also analyzes its partitions: before PostgreSQL 18, which has no
   * `ANALYZE ONLY`. Partitions of a parent in the list are then left out.
   */
  readonly parentCoversPartitions: boolean;
}

/**
 * What the refresh-stats job analyzes, in order (the budget may end the list early):
 * 1. parents not analyzed by partkeeper within `parentsEvery`: autovacuum does not process partitioned
 *    tables, so their statistics exist only when someone runs ANALYZE (Postgres docs, Routine Vacuuming,
 *    "Updating Planner Statistics": "autovacuum does not process partitioned tables");
 * 2. partitions never analyzed (created, filled by default-partition moves, restored, backfilled), which
 *    the planner otherwise sizes by guesswork;
 * 3. partitions changed past autovacuum's own threshold since their last analyze, most changed first,
 *    so a bulk load is analyzed now rather than whenever autovacuum gets to it.
 * Pure: the same input gives the same list.
 */
export function planAnalyze(input: AnalyzePlanInput): AnalyzeTarget[] {
  const { settings, now, threshold } = input;
  const parents: AnalyzeTarget[] = !settings.parents
    ? []
    : input.parents
        .filter((p) => p.lastAnalyzed === null || addCalendarDuration(p.lastAnalyzed, settings.parentsEvery) <= now)
        .map((p) => ({
          relation: p.parent,
          parent: p.parent,
          kind: "parent",
          reason: p.lastAnalyzed === null ? "parent never analyzed by partkeeper" : `parent last analyzed ${p.lastAnalyzed.toISOString()}`,
        }));
  if (!settings.partitions) return parents;
  const covered = (p: PartitionAnalyzeState) => input.parentCoversPartitions && parents.some((t) => sameName(t.relation, p.parent));
  const partitions = input.partitions.filter((p) => !covered(p));
  const never = partitions.filter((p) => p.lastAnalyzed === null);
  const changed = partitions
    .filter((p) => p.lastAnalyzed !== null && p.modifiedSinceAnalyze > threshold.base + threshold.scale * Math.max(p.reltuples, 0))
    .sort((a, b) => b.modifiedSinceAnalyze - a.modifiedSinceAnalyze);
  return [
    ...parents,
    ...never.map((p): AnalyzeTarget => ({ relation: p.partition, parent: p.parent, kind: "partition", reason: "never analyzed" })),
    ...changed.map((p): AnalyzeTarget => ({
      relation: p.partition,
      parent: p.parent,
      kind: "partition",
      reason: `${p.modifiedSinceAnalyze} rows changed since ${p.lastAnalyzed!.toISOString()}`,
    })),
  ];
}
