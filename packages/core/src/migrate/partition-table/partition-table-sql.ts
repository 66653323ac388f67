import type { IndexKey, ShapeIndex, TableShape } from "../../catalog/read-table-shape.ts";
import type { TablePolicy } from "../../config/schema.ts";
import { literal, quoteIdent, quoteQualified } from "../../db/sql-text.ts";
import { displayName, type QualifiedName } from "../../identifier.ts";
import { METHOD_OF_STRATEGY } from "../../plan/check-manageable.ts";
import type { Action } from "../../plan/actions.ts";
import { createCaptureSql, drainSql, dropCaptureSql, dropCaptureTriggerSql, installCaptureTriggerSql, type Drain } from "../capture.ts";
import { forwardCapture, reverseCapture, type PartitionTableLayout } from "./layout.ts";
import { keyTextArray } from "../key-sql.ts";
import { createPartitionsSql } from "../../partitions/partition-ddl.ts";

/**
 * Pure SQL of the partition-table migration's steps (exact output unit-tested). The copy gets what
 * `CREATE TABLE ... (LIKE ...)` carries (defaults, identity, generated columns, CHECK and NOT NULL
 * constraints, column comments, storage, compression), then the table comment, a primary key of
 * the source's key plus the partition key, the unique constraints (all include the partition key:
 * checkSource refused the others), every other index rebuilt from its catalog parts, the outgoing
 * foreign keys, and the partitions the planner gives it.
 */

/** Rebuilds one key part of an index: column or `(expression)`, collation, operator class, order. */
function indexKeySql(key: IndexKey): string {
  const parts = [key.column !== null ? quoteIdent(key.column) : `(${key.expression})`];
  if (key.collation) parts.push(`COLLATE ${quoteQualified(key.collation)}`);
  if (key.opclass) parts.push(quoteQualified(key.opclass));
  if (key.descending) parts.push("DESC");
  // Defaults are NULLS LAST ascending, NULLS FIRST descending (CREATE INDEX).
  if (key.nullsFirst && !key.descending) parts.push("NULLS FIRST");
  if (!key.nullsFirst && key.descending) parts.push("NULLS LAST");
  return parts.join(" ");
}

/** `CREATE [UNIQUE] INDEX ON <table> USING <method> (...) [INCLUDE (...)] [WHERE ...]` (Postgres names it). */
export function createIndexSql(table: QualifiedName, index: ShapeIndex): string {
  const include = index.include.length ? ` INCLUDE (${index.include.map(quoteIdent).join(", ")})` : "";
  const where = index.predicate ? ` WHERE ${index.predicate}` : "";
  return `CREATE ${index.unique ? "UNIQUE " : ""}INDEX ON ${quoteQualified(table)} USING ${quoteIdent(index.method)} (${index.keys.map(indexKeySql).join(", ")})${include}${where}`;
}

/**
 * Prepare's first step, one transaction: the copy, its keys, indexes and foreign keys, its
 * partitions (`creates`: the planner's create actions for the final table's name, applied to the
 * copy), and both capture tables with their trigger functions. Nothing touches the source but a read
 * of its definition.
 */
export function prepareSql(id: string, layout: PartitionTableLayout, shape: TableShape, policy: TablePolicy, creates: ReadonlyArray<Action>): string[] {
  const twin = quoteQualified(layout.twin);
  const method = METHOD_OF_STRATEGY[policy.strategy].toUpperCase();
  const statements = [
    `CREATE TABLE ${twin} (LIKE ${quoteQualified(layout.table)} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED ` +
      `INCLUDING CONSTRAINTS INCLUDING COMMENTS INCLUDING STORAGE INCLUDING COMPRESSION) PARTITION BY ${method} (${quoteIdent(layout.column)})`,
  ];
  if (shape.comment !== null) statements.push(`COMMENT ON TABLE ${twin} IS ${literal(shape.comment)}`);
  const primaryKey = [...layout.keys.map((k) => k.name), ...(layout.keys.some((k) => k.name === layout.column) ? [] : [layout.column])];
  statements.push(`ALTER TABLE ${twin} ADD PRIMARY KEY (${primaryKey.map(quoteIdent).join(", ")})`);
  for (const index of shape.indexes) {
    if (index.constraint === "p") continue;
    if (index.constraint === "u") {
      statements.push(`ALTER TABLE ${twin} ADD UNIQUE (${index.keys.map((k) => quoteIdent(k.column!)).join(", ")})`);
    } else {
      statements.push(createIndexSql(layout.twin, index));
    }
  }
  for (const fk of shape.foreignKeys) statements.push(`ALTER TABLE ${twin} ADD CONSTRAINT ${quoteIdent(fk.name)} ${fk.definition}`);
  statements.push(...createPartitionsSql(creates, layout.twin));
  statements.push(...createCaptureSql(forwardCapture(id, layout)), ...createCaptureSql(reverseCapture(id, layout)));
  return statements;
}

/** Forward drain: captured keys of the source re-copied into the copy. */
export function forwardDrain(id: string, layout: PartitionTableLayout): Drain {
  return { capture: forwardCapture(id, layout), from: layout.table, to: layout.twin, columns: layout.columns };
}

/** Reverse drain (after the swap): captured keys of the new table re-copied into the retired one. */
export function reverseDrain(id: string, layout: PartitionTableLayout): Drain {
  return { capture: reverseCapture(id, layout), from: layout.table, to: layout.retired, columns: layout.columns };
}

/**
 * Carries sequence state from `from` to `to` (same columns): an identity column's own sequence is
 * set to the other's last value; a serial column's shared sequence changes owner, so dropping the
 * retired table later does not drop it.
 */
function carrySequencesSql(layout: PartitionTableLayout, from: QualifiedName, to: QualifiedName): string[] {
  return layout.sequences.map((s) =>
    s.identity
      ? `SELECT setval(pg_get_serial_sequence(${literal(quoteQualified(to))}, ${literal(s.column)}), v) ` +
        `FROM (SELECT pg_sequence_last_value(pg_get_serial_sequence(${literal(quoteQualified(from))}, ${literal(s.column)})::regclass) AS v) last WHERE v IS NOT NULL`
      : `ALTER SEQUENCE ${quoteQualified(s.sequence)} OWNED BY ${quoteQualified(to)}.${quoteIdent(s.column)}`,
  );
}

/** GRANTs the source has (other than its owner's), given on `to`. */
function grantsSql(shape: TableShape, to: QualifiedName): string[] {
  return shape.grants.map(
    (g) => `GRANT ${g.privilege} ON ${quoteQualified(to)} TO ${g.grantee === null ? "PUBLIC" : quoteIdent(g.grantee)}${g.grantable ? " WITH GRANT OPTION" : ""}`,
  );
}

/**
 * A check run under the swap's lock: source and copy still have the same columns (name, type,
 * generated or not), and the columns both have are the ones the migration copies (`layout.columns`,
 * fixed at prepare). A column added to the source after verification would otherwise stay behind
 * with the retired table, unknown to the partitioned one, and be dropped with it at finalize.
 * Raises 55000 object_not_in_prerequisite_state naming each difference:
 *
 * ```sql
 * DO $partkeeper_columns$ DECLARE drift text; BEGIN
 *   WITH cols AS (SELECT ... FROM pg_attribute ...), s AS (...), c AS (...)
 *   SELECT string_agg(d, '; ' ORDER BY d) INTO drift FROM (...) d;
 *   IF drift IS NOT NULL THEN RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state', MESSAGE = ...; END IF;
 * END $partkeeper_columns$
 * ```
 */
export function columnsGuardSql(id: string, layout: PartitionTableLayout): string {
  const source = `${literal(quoteQualified(layout.table))}::regclass`;
  const copy = `${literal(quoteQualified(layout.twin))}::regclass`;
  const copied = `ARRAY[${layout.columns.map(literal).join(", ")}]::text[]`;
  const onlyIn = (from: string, name: QualifiedName, other: QualifiedName) =>
    `SELECT format('column %I (%s) of %s is not in %s', name, type, ${literal(displayName(name))}, ${literal(displayName(other))}) AS d ` +
    `FROM (SELECT * FROM ${from === "s" ? "s EXCEPT SELECT * FROM c" : "c EXCEPT SELECT * FROM s"}) x`;
  const message = `migration ${id}: the columns of ${displayName(layout.table)} and of its copy ${displayName(layout.twin)} are not the ones the migration copies (fixed when it was prepared): `;
  const next = "; nothing was swapped. Undo the column change, or convert the table again under a new migration id";
  const delimiter = "$partkeeper_columns$";
  const body = [
    "DECLARE drift text;",
    "BEGIN",
    "  WITH cols AS (",
    `    SELECT a.attrelid = ${source} AS in_source, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated <> '' AS generated`,
    `    FROM pg_attribute a WHERE a.attrelid IN (${source}, ${copy}) AND a.attnum > 0 AND NOT a.attisdropped`,
    "  ), s AS (SELECT name, type, generated FROM cols WHERE in_source), c AS (SELECT name, type, generated FROM cols WHERE NOT in_source)",
    "  SELECT string_agg(d, '; ' ORDER BY d) INTO drift FROM (",
    `    ${onlyIn("s", layout.table, layout.twin)}`,
    `    UNION ALL ${onlyIn("c", layout.twin, layout.table)}`,
    `    UNION ALL SELECT format('column %I was added to both since the migration was prepared: the backfill and capture do not copy it', name) FROM s`,
    `      WHERE NOT generated AND name <> ALL (${copied}) AND (name, type, generated) IN (SELECT * FROM c)`,
    "  ) d;",
    "  IF drift IS NOT NULL THEN",
    `    RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state', MESSAGE = ${literal(message)} || drift || ${literal(next)};`,
    "  END IF;",
    "END",
  ].join("\n");
  if (body.includes(delimiter)) throw new Error(`swap of ${id}: a name contains ${delimiter}`);
  return `DO ${delimiter}\n${body}\n${delimiter}`;
}

/**
 * The swap, one transaction (run it under lock_timeout): lock source and copy, check their columns
 * (columnsGuardSql), drain every captured change (no writer can add one while the lock is held),
 * carry sequences, move the source to `<table>_retired` and the copy to `<table>`, carry grants,
 * and turn capture around so the retired table keeps receiving every write until finalize (a
 * rollback loses nothing).
 */
export function swapSql(id: string, layout: PartitionTableLayout, shape: TableShape): string[] {
  const tableName = quoteIdent(layout.table.name);
  return [
    `LOCK TABLE ${quoteQualified(layout.table)}, ${quoteQualified(layout.twin)} IN ACCESS EXCLUSIVE MODE`,
    columnsGuardSql(id, layout),
    ...drainSql(forwardDrain(id, layout), null),
    ...carrySequencesSql(layout, layout.table, layout.twin),
    ...dropCaptureTriggerSql(forwardCapture(id, layout)),
    `ALTER TABLE ${quoteQualified(layout.table)} RENAME TO ${quoteIdent(layout.retired.name)}`,
    `ALTER TABLE ${quoteQualified(layout.twin)} RENAME TO ${tableName}`,
    ...installCaptureTriggerSql(reverseCapture(id, layout)),
    ...grantsSql(shape, layout.table),
  ];
}

/**
 * The rollback, one transaction: lock both, drain the reverse capture into the retired table,
 * carry sequences back, swap the names back and capture forward again. The copy is kept (current,
 * by capture) so a later `migrate swap` can try again.
 */
export function rollbackSql(id: string, layout: PartitionTableLayout): string[] {
  return [
    `LOCK TABLE ${quoteQualified(layout.table)}, ${quoteQualified(layout.retired)} IN ACCESS EXCLUSIVE MODE`,
    ...drainSql(reverseDrain(id, layout), null),
    ...carrySequencesSql(layout, layout.table, layout.retired),
    ...dropCaptureTriggerSql(reverseCapture(id, layout)),
    `ALTER TABLE ${quoteQualified(layout.table)} RENAME TO ${quoteIdent(layout.twin.name)}`,
    `ALTER TABLE ${quoteQualified(layout.retired)} RENAME TO ${quoteIdent(layout.table.name)}`,
    ...installCaptureTriggerSql(forwardCapture(id, layout)),
  ];
}

/** Prepare's second step: capture on the source (its short SHARE ROW EXCLUSIVE lock fixes the boundary). */
export function installForwardCaptureSql(id: string, layout: PartitionTableLayout): string[] {
  return installCaptureTriggerSql(forwardCapture(id, layout));
}

/** Finalize: the reverse capture and the retired table go; the partitioned table stays as it is. */
export function finalizeSql(id: string, layout: PartitionTableLayout): string[] {
  return [
    ...dropCaptureTriggerSql(reverseCapture(id, layout)),
    `DROP TABLE IF EXISTS ${quoteQualified(layout.retired)}`,
    ...dropCaptureSql(forwardCapture(id, layout)),
    ...dropCaptureSql(reverseCapture(id, layout)),
  ];
}

/** Boundary query: the source's last primary key (text per column), read in the capture step's transaction. */
export function boundarySql(layout: PartitionTableLayout): string {
  const order = layout.keys.map((k) => `${quoteIdent(k.name)} DESC`).join(", ");
  return `SELECT ${keyTextArray(layout.keys)} AS boundary FROM ${quoteQualified(layout.table)} ORDER BY ${order} LIMIT 1`;
}
