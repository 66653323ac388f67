import type { PartitionBounds } from "../catalog/types.ts";
import { literal, quoteIdent, quoteQualified } from "../db/sql-text.ts";
import type { QualifiedName } from "../identifier.ts";
import type { Action } from "../plan/actions.ts";

/**
 * Pure SQL generators for partition DDL; exact output is unit-tested (STYLE.md rule 14).
 * Bound values are literals, keywords MINVALUE/MAXVALUE stay bare (Postgres docs, CREATE TABLE
 * "partition_bound_spec").
 */

type ConcreteBounds = Exclude<PartitionBounds, { kind: "default" }>;

function boundValue(value: string | null): string {
  if (value === null) return "NULL";
  return value === "MINVALUE" || value === "MAXVALUE" ? value : literal(value);
}

/** `FOR VALUES FROM ('a') TO ('b')` | `FOR VALUES IN ('x', NULL)` | `FOR VALUES WITH (MODULUS 4, REMAINDER 1)` */
export function boundsClause(bounds: ConcreteBounds): string {
  switch (bounds.kind) {
    case "range":
      return `FOR VALUES FROM (${boundValue(bounds.from)}) TO (${boundValue(bounds.to)})`;
    case "list":
      return `FOR VALUES IN (${bounds.values.map(boundValue).join(", ")})`;
    case "hash":
      return `FOR VALUES WITH (MODULUS ${bounds.modulus}, REMAINDER ${bounds.remainder})`;
    default: {
      const never: never = bounds;
      throw new Error(`unknown bounds ${JSON.stringify(never)}`);
    }
  }
}

/** `CREATE TABLE "s"."p" PARTITION OF "s"."parent" FOR VALUES ...` */
export function createPartitionOfSql(parent: QualifiedName, partition: QualifiedName, bounds: ConcreteBounds): string {
  return `CREATE TABLE ${quoteQualified(partition)} PARTITION OF ${quoteQualified(parent)} ${boundsClause(bounds)}`;
}

/** `CREATE TABLE "s"."p_default" PARTITION OF "s"."parent" DEFAULT` */
export function createDefaultPartitionSql(parent: QualifiedName, partition: QualifiedName): string {
  return `CREATE TABLE ${quoteQualified(partition)} PARTITION OF ${quoteQualified(parent)} DEFAULT`;
}

/** `CREATE TABLE ... PARTITION OF` for each planned create (none of them moves rows out of a default partition). */
export function createPartitionsSql(creates: ReadonlyArray<Action>, parent = creates[0]?.parent): string[] {
  return creates.flatMap((action) => {
    if (action.kind === "create-partition") return [createPartitionOfSql(parent!, action.partition, action.bounds)];
    if (action.kind === "create-default-partition") return [createDefaultPartitionSql(parent!, action.partition)];
    return [];
  });
}

/** The WHERE condition selecting a partition's rows by its key (range upper bound exclusive). */
export function boundsCondition(key: string, bounds: ConcreteBounds): string {
  const column = quoteIdent(key);
  switch (bounds.kind) {
    case "range": {
      const parts: string[] = [];
      if (bounds.from !== "MINVALUE") parts.push(`${column} >= ${literal(bounds.from)}`);
      if (bounds.to !== "MAXVALUE") parts.push(`${column} < ${literal(bounds.to)}`);
      return parts.length ? parts.join(" AND ") : "true";
    }
    case "list": {
      const values = bounds.values.filter((v): v is string => v !== null);
      const parts: string[] = [];
      if (values.length) parts.push(`${column} IN (${values.map(literal).join(", ")})`);
      if (values.length < bounds.values.length) parts.push(`${column} IS NULL`);
      return parts.length > 1 ? `(${parts.join(" OR ")})` : (parts[0] ?? "false");
    }
    case "hash":
      throw new Error("hash-partitioned tables have no default partition to move rows from");
    default: {
      const never: never = bounds;
      throw new Error(`unknown bounds ${JSON.stringify(never)}`);
    }
  }
}

/** Index, in createPartitionViaDefaultSql's statements, of the one whose row count is the rows moved. */
export const MOVE_STATEMENT = 3;

/**
 * Creating a partition while a default partition holds rows of its range fails (`updated partition
 * constraint for default partition would be violated`). These statements, run in ONE transaction,
 * lock the parent and the default partition, create the new table, move the rows and attach it
 * (DESIGN rule 4; pg_partman #247, #510, #620). The row count of statement MOVE_STATEMENT is the
 * number of rows moved. `columns` are the stored (non-generated) columns: generated ones are recomputed on insert.
 *
 * The parent is locked first, in SHARE ROW EXCLUSIVE mode (DESIGN rule 12). Without it an
 * `INSERT INTO parent` (or a key-changing UPDATE) routed while this transaction runs picks the
 * default partition from the old partition descriptor, waits for the default partition's lock,
 * and fails after the commit with `new row for relation "..._default" violates partition
 * constraint`. SHARE ROW EXCLUSIVE conflicts with the ROW EXCLUSIVE every INSERT/UPDATE/DELETE
 * through the parent takes before routing, so writers wait and are routed with the new descriptor
 * after the commit; it does not block reads at the parent (ACCESS SHARE, ROW SHARE; reads that scan
 * the default partition wait for its lock, as before); and it already covers the
 * SHARE UPDATE EXCLUSIVE that ATTACH PARTITION takes on the parent, so no lock is upgraded later
 * (SHARE would be, and could deadlock with another SHARE holder such as CREATE INDEX). Parent
 * before partition is the order writers lock in, too (Postgres docs, "Table-Level Locks").
 * Writers through the parent therefore wait for the whole transaction, the row move included.
 */
export function createPartitionViaDefaultSql(options: {
  parent: QualifiedName;
  partition: QualifiedName;
  defaultPartition: QualifiedName;
  key: string;
  columns: ReadonlyArray<string>;
  bounds: ConcreteBounds;
}): string[] {
  const { parent, partition, defaultPartition, key, columns, bounds } = options;
  const columnList = columns.map(quoteIdent).join(", ");
  return [
    `LOCK TABLE ${quoteQualified(parent)} IN SHARE ROW EXCLUSIVE MODE`,
    `LOCK TABLE ${quoteQualified(defaultPartition)} IN ACCESS EXCLUSIVE MODE`,
    createLikeParentSql(partition, parent),
    `WITH moved AS (DELETE FROM ${quoteQualified(defaultPartition)} WHERE ${boundsCondition(key, bounds)} RETURNING ${columnList}) ` +
      `INSERT INTO ${quoteQualified(partition)} (${columnList}) SELECT ${columnList} FROM moved`,
    attachPartitionSql(parent, partition, boundsClause(bounds)),
  ];
}

/**
 * What a table created `LIKE` a parent takes from it: defaults, NOT NULL and CHECK constraints, the
 * generation expressions of generated columns (without INCLUDING GENERATED a generated column of the
 * parent becomes a plain column, and ATTACH refuses the table: `column "g" in child table must be a
 * generated column`), storage settings and comments. Not indexes: ATTACH builds the parent's.
 */
const LIKE_PARENT_OPTIONS = "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS";

/**
 * `CREATE TABLE "s"."t" (LIKE "s"."parent" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED
 * INCLUDING STORAGE INCLUDING COMMENTS)` (`LIKE_PARENT_OPTIONS`): same columns as the parent, generated
 * ones computed by Postgres on load; not partitioned, no indexes (an ATTACH builds the parent's
 * indexes on it). For a new partition filled from the default partition, and for a restore target.
 */
export function createLikeParentSql(target: QualifiedName, parent: QualifiedName): string {
  return `CREATE TABLE ${quoteQualified(target)} (LIKE ${quoteQualified(parent)} ${LIKE_PARENT_OPTIONS})`;
}

/**
 * ATTACH in a transaction that first locks the parent SHARE ROW EXCLUSIVE when it has a default
 * partition: ATTACH itself takes only SHARE UPDATE EXCLUSIVE on the parent, so an INSERT routed
 * meanwhile to the default partition (by the old partition descriptor) for the attached range would
 * fail after the commit with `violates partition constraint` (the race createPartitionViaDefaultSql
 * closes the same way). Without a default partition the attach blocks no writer, and stays so.
 */
export function attachPartitionSteps(parent: QualifiedName, partition: QualifiedName, boundClause: string, hasDefaultPartition: boolean): string[] {
  const attach = attachPartitionSql(parent, partition, boundClause);
  return hasDefaultPartition ? [`LOCK TABLE ${quoteQualified(parent)} IN SHARE ROW EXCLUSIVE MODE`, attach] : [attach];
}

/**
 * `ALTER TABLE "s"."parent" ATTACH PARTITION "s"."p" FOR VALUES FROM (...) TO (...)`; `boundClause` is
 * a bound clause as `boundsClause` renders it or as `pg_get_expr(relpartbound, oid)` printed it.
 */
export function attachPartitionSql(parent: QualifiedName, partition: QualifiedName, boundClause: string): string {
  return `ALTER TABLE ${quoteQualified(parent)} ATTACH PARTITION ${quoteQualified(partition)} ${boundClause}`;
}

/**
 * `ALTER TABLE parent DETACH PARTITION p [CONCURRENTLY | FINALIZE]`. CONCURRENTLY takes only
 * SHARE UPDATE EXCLUSIVE on the parent but is refused inside a transaction block and when the
 * parent has a default partition; FINALIZE completes an interrupted concurrent detach
 * (Postgres docs, ALTER TABLE "DETACH PARTITION").
 */
export function detachPartitionSql(
  parent: QualifiedName,
  partition: QualifiedName,
  mode: "plain" | "concurrently" | "finalize",
): string {
  const suffix = mode === "concurrently" ? " CONCURRENTLY" : mode === "finalize" ? " FINALIZE" : "";
  return `ALTER TABLE ${quoteQualified(parent)} DETACH PARTITION ${quoteQualified(partition)}${suffix}`;
}

/**
 * `DROP TABLE IF EXISTS "s"."p"`: only ever run on a table that is no longer attached. IF EXISTS
 * makes a re-run after a crash between the drop and its record a no-op.
 */
export function dropTableSql(table: QualifiedName): string {
  return `DROP TABLE IF EXISTS ${quoteQualified(table)}`;
}
