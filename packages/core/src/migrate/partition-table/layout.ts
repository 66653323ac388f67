import type { ParentInfo } from "../../catalog/types.ts";
import type { ShapeColumn, TableShape } from "../../catalog/read-table-shape.ts";
import type { PartitionTableSpec, TablePolicy } from "../../config/schema.ts";
import { UnmanageableTableError } from "../../errors.ts";
import { displayName, qualifiedName, type QualifiedName } from "../../identifier.ts";
import { checkManageable, METHOD_OF_STRATEGY } from "../../plan/check-manageable.ts";
import { partitionName } from "../../plan/partition-name.ts";
import type { Capture } from "../capture.ts";
import type { KeyColumn } from "../key-sql.ts";

/**
 * The relations and keys of one partition-table migration, fixed at prepare and kept in its record
 * (a later step never re-derives them from a table that has since been renamed).
 */
export interface PartitionTableLayout {
  /** The table being converted: the source before the swap, the partitioned table after it. */
  readonly table: QualifiedName;
  /** The partitioned copy before the swap: `<table>_partitioned`. */
  readonly twin: QualifiedName;
  /** The source's name after the swap: `<table>_retired`. */
  readonly retired: QualifiedName;
  readonly column: string;
  /** The source's primary key (the copy's is this plus the partition key). */
  readonly keys: ReadonlyArray<KeyColumn>;
  /** Every column but generated ones, in table order: what copies write. */
  readonly columns: ReadonlyArray<string>;
  /** Identity and serial columns and their source sequence, carried at the swap. */
  readonly sequences: ReadonlyArray<{ readonly column: string; readonly identity: boolean; readonly sequence: QualifiedName }>;
}

/** Suffixes of the copy and of the source once swapped out (pgslice: `_intermediate`, `_retired`). */
export const TWIN_SUFFIX = "_partitioned";
export const RETIRED_SUFFIX = "_retired";

export function layoutOf(spec: PartitionTableSpec, shape: TableShape): PartitionTableLayout {
  const typeOf = (name: string) => shape.columns.find((c) => c.name === name)!.type;
  return {
    table: spec.table,
    twin: partitionName(spec.table, TWIN_SUFFIX, new Set()),
    retired: partitionName(spec.table, RETIRED_SUFFIX, new Set()),
    column: spec.column,
    keys: shape.primaryKey.map((name) => ({ name, type: typeOf(name) })),
    columns: shape.columns.filter((c) => !c.generated).map((c) => c.name),
    sequences: shape.columns.flatMap((c) => (c.sequence ? [{ column: c.name, identity: c.identity !== "", sequence: c.sequence }] : [])),
  };
}

export function forwardCapture(id: string, layout: PartitionTableLayout): Capture {
  return { id, direction: "forward", watched: layout.table, keys: layout.keys };
}

export function reverseCapture(id: string, layout: PartitionTableLayout): Capture {
  return { id, direction: "reverse", watched: layout.table, keys: layout.keys };
}

/** What prepare reads of the data besides the catalog: rows whose partition key is NULL. */
export interface SourceFacts {
  readonly nullKeys: number;
}

/**
 * Why `shape` cannot be converted with `spec` and `policy`, or nothing when it can. Every problem
 * is named, with the next step; the first found is thrown.
 *
 * @throws UnmanageableTableError when the table does not exist, is not a plain table (already
 *   partitioned, a partition, has inheritance children), has no primary key, lacks the column, has
 *   NULLs in it or lets it be NULL, has a unique constraint or index that cannot include the partition
 *   key, or an exclusion constraint, is referenced by foreign keys or by views, when the policy has
 *   no default partition (range and list), or when the column's type does not fit the policy's
 *   strategy (checkManageable's rules).
 */
export function checkSource(spec: PartitionTableSpec, policy: TablePolicy, shape: TableShape | null, facts: SourceFacts | null): void {
  const name = displayName(spec.table);
  const fail = (problem: string): never => {
    throw new UnmanageableTableError(`migration ${spec.id}: ${name} ${problem}`);
  };
  if (!shape) return fail("does not exist: check schema and table of the migration");
  if (shape.relkind === "p") return fail("is already partitioned: nothing to migrate; remove the migration and let the policy in tables manage it");
  if (shape.relkind !== "r") return fail(`is not a table (relkind ${shape.relkind}): only plain tables can be converted`);
  if (shape.inherits) return fail("is a partition or has inheritance children: only a plain, standalone table can be converted");
  if (shape.primaryKey.length === 0) {
    return fail("has no primary key: the backfill walks the table in primary-key order and capture replays by it; add one (ALTER TABLE ... ADD PRIMARY KEY) first");
  }
  if (shape.primaryKey.some((k) => k === "")) return fail("has a primary key on an expression: partkeeper needs a primary key of plain columns");
  const column = shape.columns.find((c) => c.name === spec.column);
  if (!column) return fail(`has no column ${JSON.stringify(spec.column)}: fix the migration's column`);
  if (facts && facts.nullKeys > 0) {
    return fail(`has ${facts.nullKeys} rows with NULL ${spec.column}: a partition key of the copy's primary key cannot be NULL; fill them in first`);
  }
  if (!column.notNull) {
    return fail(
      `allows NULL in ${spec.column}: the partitioned table's primary key includes the partition key, so a NULL written during the migration could not be copied; ` +
        `make it NOT NULL first (ADD CONSTRAINT ... CHECK (${spec.column} IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL)`,
    );
  }
  if (column.generated) return fail(`partition key ${spec.column} is a generated column: partition by a stored column`);
  for (const index of shape.indexes) {
    if (index.constraint === "x") {
      return fail(`has exclusion constraint ${index.name}: a partitioned table cannot enforce it across partitions; drop it first`);
    }
    if (!index.unique || index.constraint === "p") continue;
    const columns = index.keys.map((k) => k.column);
    if (!columns.includes(spec.column)) {
      const what = index.constraint === "u" ? "unique constraint" : "unique index";
      return fail(
        `has ${what} ${index.name} (${columns.map((c) => c ?? "<expression>").join(", ")}) that cannot include the partition key ${spec.column}: ` +
          "Postgres enforces uniqueness on a partitioned table only over column sets that include the partition key (CREATE TABLE, \"unique constraints on partitioned tables\"); " +
          "drop it, or add the partition key to it, before converting",
      );
    }
  }
  if (shape.referencedBy.length) {
    const refs = shape.referencedBy.map((r) => `${displayName(r.table)}.${r.constraint}`).join(", ");
    return fail(`is referenced by foreign keys (${refs}): they would follow the retired table at the swap; drop them first and recreate them against the partitioned table after the swap`);
  }
  if (shape.dependentViews.length) {
    return fail(
      `is used by views (${shape.dependentViews.map(displayName).join(", ")}): they would follow the retired table at the swap; drop them first and recreate them after the swap`,
    );
  }
  if (policy.strategy !== "hash" && !policy.defaultPartition) {
    return fail(
      `has a policy with defaultPartition false: a migration needs the default partition, so that a row outside the partitions it creates (a key beyond premake, one written during the migration) is copied instead of stopping the migration; set defaultPartition to true (the default)`,
    );
  }
  checkManageable(policy, twinParentInfo(spec.table, policy, column, shape.columns));
}

/**
 * The partitioned table as the planner sees it before it has any partition (named after the final
 * table, so partitions get the names they keep after the swap).
 */
export function twinParentInfo(table: QualifiedName, policy: TablePolicy, keyColumn: Pick<ShapeColumn, "name" | "type">, columns: ReadonlyArray<ShapeColumn>, maxKey: string | null = null): ParentInfo {
  return {
    parent: qualifiedName(table.schema, table.name),
    method: METHOD_OF_STRATEGY[policy.strategy],
    keyColumns: [{ name: keyColumn.name, type: keyColumn.type }],
    keyHasExpression: false,
    columns: columns.map((c) => ({ name: c.name, type: c.type, ...(c.generated ? { generated: true } : {}) })),
    partitions: [],
    maxKey,
  };
}
