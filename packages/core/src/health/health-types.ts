import type { Strategy } from "../config/schema.ts";
import type { QualifiedName } from "../identifier.ts";

/**
 * Where a partition stands in its parent's lifecycle, as the health views (migrations 0006 and 0007,
 * `partkeeper.partition_health(at)`) compute it at time `at`:
 * - `future`: a range partition wholly after `at` (range-time) or above the parent's max key at its
 *   last maintain run (range-integer): premade;
 * - `current`: holds `at` (or the max key);
 * - `past`: wholly before, not expired yet;
 * - `expiring`: expired by the policy's retention and still in the database (the archive backlog);
 * - `archived`: dropped (or kept detached) after a verified archive: in S3 only;
 * - `restored`: attached again by a partkeeper restore;
 * - `default`: the default partition;
 * - `live`: a list or hash partition (no time order).
 */
export type PartitionState = "future" | "current" | "past" | "expiring" | "archived" | "restored" | "default" | "live";

export const PARTITION_STATES: ReadonlyArray<PartitionState> = ["archived", "expiring", "past", "current", "future", "restored", "default", "live"];

/** One partition of a parent, live or archived. */
export interface PartitionHealth {
  readonly partition: QualifiedName;
  /** Bound expression as Postgres prints it (`FOR VALUES FROM (...) TO (...)`, `DEFAULT`, ...). */
  readonly bounds: string;
  /** Range bounds as text (timestamps in ISO-8601 UTC for range-time, integers for range-integer); null otherwise. */
  readonly lower: string | null;
  readonly upper: string | null;
  readonly state: PartitionState;
  /** Live: Postgres' estimate (pg_class.reltuples; null before the first ANALYZE). Archived: the archive's exact rows. */
  readonly rows: number | null;
  /** Live: pg_total_relation_size, bytes. Archived: the Parquet object's bytes. */
  readonly bytes: number | null;
  /** Last ANALYZE, manual or automatic (ISO-8601 UTC), null when never. */
  readonly lastAnalyze: string | null;
  /** Last autovacuum (ISO-8601 UTC), null when never. */
  readonly lastAutovacuum: string | null;
}

/** One configured parent: the values `partkeeper.parent_health(at)` gives, and its partitions in bound order. */
export interface ParentHealth {
  readonly parent: QualifiedName;
  readonly strategy: Strategy;
  /** Null when the parent can be managed; else why not (missing, not partitioned, ...). */
  readonly problem: string | null;
  /** Partitions in the database (default included). */
  readonly partitions: number;
  /** Range partitions in state `future`; null for list and hash. */
  readonly partitionsAhead: number | null;
  /** Upper bound of the last premade partition (ISO-8601 UTC, range-time only): how far ahead in time. */
  readonly aheadUntil: string | null;
  /** Rows in the default partition (exact count); null when the parent has none. */
  readonly defaultPartitionRows: number | null;
  /** The oldest partition in state `expiring`, null when none. */
  readonly oldestExpiring: QualifiedName | null;
  /** Partitions in state `expiring`. */
  readonly archiveBacklog: number;
  /** Last successful run of each job that works on this parent (ISO-8601 UTC), e.g. `{ maintain: "...", archive: null }`. */
  readonly lastSuccess: Readonly<Record<string, string | null>>;
  /** Runs in the 24 hours before `at` that failed on this parent. */
  readonly failedRuns24h: number;
  readonly partitionList: ReadonlyArray<PartitionHealth>;
}

/** A configured materialized view and its last refresh by the refresh-stats job. */
export interface MaterializedViewHealth {
  readonly view: QualifiedName;
  /** Last successful refresh (ISO-8601 UTC), null when never. */
  readonly lastRefresh: string | null;
  /** Seconds from the last successful refresh to `at`; null when never. */
  readonly ageSeconds: number | null;
  /** Status of the last attempt: ok, failed, skipped, stopped; null when never tried. */
  readonly lastStatus: string | null;
  readonly lastDurationMs: number | null;
  readonly lastMessage: string | null;
}

/** Everything `partkeeper status` and `partkeeper report` show, read at `at`. */
export interface HealthReport {
  /** ISO-8601 UTC: the time the states are computed for. */
  readonly at: string;
  readonly parents: ReadonlyArray<ParentHealth>;
  readonly materializedViews: ReadonlyArray<MaterializedViewHealth>;
}
