import type { QualifiedName } from "../identifier.ts";

/** Postgres partition strategy of a parent (`pg_partitioned_table.partstrat`). */
export type PartitionMethod = "range" | "list" | "hash";

/** One column as `format_type(atttypid, atttypmod)` renders it, e.g. `numeric(12,2)`, `timestamp with time zone`. */
export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
  /** A stored generated column (`pg_attribute.attgenerated = 's'`): computed, never written. */
  readonly generated?: boolean;
}

/**
 * A partition's bounds parsed from `pg_get_expr(relpartbound, oid)` (DESIGN rule 3: never from names).
 * Range values are the literal's text without quotes, as Postgres prints it with TimeZone = UTC:
 * `2024-01-01 00:00:00+00` (timestamptz), `2024-01-01 00:00:00` (timestamp), `2024-01-01` (date), `1000` (integer),
 * or the keywords `MINVALUE` / `MAXVALUE`.
 */
export type PartitionBounds =
  | { readonly kind: "range"; readonly from: string; readonly to: string }
  | { readonly kind: "list"; readonly values: ReadonlyArray<string | null> }
  | { readonly kind: "hash"; readonly modulus: number; readonly remainder: number }
  | { readonly kind: "default" };

export interface PartitionInfo {
  readonly name: QualifiedName;
  /** The bound clause exactly as Postgres prints it, e.g. `FOR VALUES FROM ('2024-01-01 00:00:00+00') TO (...)`. */
  readonly boundExpression: string;
  readonly bounds: PartitionBounds;
  /** `pg_class.reltuples`; -1 when never analyzed. */
  readonly rowEstimate: number;
  /** `pg_total_relation_size`: heap, indexes and TOAST, bytes; null when read without sizes (ReadCatalogOptions). */
  readonly bytes: number | null;
  /** An interrupted `DETACH ... CONCURRENTLY` left it pending (`pg_inherits.inhdetachpending`). */
  readonly detachPending: boolean;
  /** The partition is itself partitioned (sub-partitioning); checkManageable refuses a parent with any. */
  readonly isPartitioned: boolean;
}

/** A partitioned table with its direct partitions, as one set-based catalog query reads it. */
export interface ParentInfo {
  readonly parent: QualifiedName;
  readonly method: PartitionMethod;
  /** Partition key columns; empty entries never occur: an expression key makes the parent unmanageable. */
  readonly keyColumns: ReadonlyArray<ColumnInfo>;
  /** True when any key part is an expression rather than a plain column. */
  readonly keyHasExpression: boolean;
  readonly columns: ReadonlyArray<ColumnInfo>;
  readonly partitions: ReadonlyArray<PartitionInfo>;
  /** max(partition key) for range-integer parents (needed for premake and retention), else null. */
  readonly maxKey: string | null;
}

/**
 * What the planner sees of the catalog: every partitioned table the config names (missing ones are
 * listed in `missing`, plain tables in `notPartitioned`).
 */
export interface CatalogSnapshot {
  readonly parents: ReadonlyArray<ParentInfo>;
  readonly missing: ReadonlyArray<QualifiedName>;
  readonly notPartitioned: ReadonlyArray<QualifiedName>;
}
