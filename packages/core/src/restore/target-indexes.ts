import type { Sql } from "../db/client.ts";
import { quoteIdent, quoteQualified } from "../db/sql-text.ts";
import { qualifiedName, type QualifiedName } from "../identifier.ts";

/**
 * Indexes of an attach-mode restore target, set aside while it loads and built once after the load
 * (restore-partition.ts). The definitions are Postgres's own text for the target itself
 * (`pg_get_indexdef`, `pg_get_constraintdef`), read from the catalog, never assembled from the
 * parent's text with another table name spliced in.
 *
 * Why: the target is created `LIKE` the parent INCLUDING INDEXES, so it has exactly the indexes and
 * constraint names `ALTER TABLE parent ATTACH PARTITION` would otherwise build (both name them with
 * Postgres's ChooseIndexName for the target's name). Dropping them before the COPY and building them
 * after it costs one sort per index instead of an index insert per row, and ATTACH then finds
 * matching indexes and attaches them instead of building them while it holds its locks (the parent's
 * SHARE ROW EXCLUSIVE when it has a default partition: writers wait that long).
 *
 * Crash safety without a record of the definitions: a re-run after a crash before the drop finds the
 * empty target with its indexes and reads them again; after the drop (while or after loading) it finds
 * the target without them, and ATTACH builds them, with the same names, as before this change.
 */

/** One index of the target; `constraint` when it backs a PRIMARY KEY, UNIQUE or EXCLUDE constraint. */
export interface TargetIndex {
  /** The index's name (in the target's schema). */
  readonly name: string;
  /** `pg_get_indexdef`: `CREATE UNIQUE INDEX t_a_key ON s.t USING btree (a)`. */
  readonly definition: string;
  /** The constraint the index backs: its name and `pg_get_constraintdef` text (`PRIMARY KEY (id, ts)`). */
  readonly constraint: { readonly name: string; readonly definition: string } | null;
}

interface RawTargetIndexRow {
  readonly index_name: string;
  readonly index_def: string;
  readonly constraint_name: string | null;
  readonly constraint_def: string | null;
}

/**
 * The indexes of `table` in creation order (oid), each with the constraint it backs. Empty when the
 * table has none or does not exist.
 *
 * ```sql
 * select i.relname, pg_get_indexdef(x.indexrelid), c.conname, pg_get_constraintdef(c.oid)
 * from pg_index x join pg_class i on i.oid = x.indexrelid
 * left join pg_constraint c on c.conindid = x.indexrelid and c.conrelid = x.indrelid
 *   and c.contype in ('p' /* primary key *\/, 'u' /* unique *\/, 'x' /* exclusion *\/)
 * where x.indrelid = to_regclass('"s"."t"')
 * ```
 */
export async function readTargetIndexes(sql: Sql, table: QualifiedName): Promise<TargetIndex[]> {
  const rows = await sql<RawTargetIndexRow[]>`
    select i.relname as index_name, pg_get_indexdef(x.indexrelid) as index_def,
           c.conname as constraint_name, pg_get_constraintdef(c.oid) as constraint_def
    from pg_index x
    join pg_class i on i.oid = x.indexrelid
    left join pg_constraint c on c.conindid = x.indexrelid and c.conrelid = x.indrelid
      and c.contype in ('p' /* primary key */, 'u' /* unique */, 'x' /* exclusion */)
    where x.indrelid = to_regclass(${quoteQualified(table)})
    order by x.indexrelid`;
  return rows.map((r) =>
    Object.freeze({
      name: r.index_name,
      definition: r.index_def,
      constraint: r.constraint_name === null ? null : Object.freeze({ name: r.constraint_name, definition: r.constraint_def! }),
    }),
  );
}

/** True when `parent` has at least one index (a partitioned parent's indexes are partitioned indexes). */
export async function hasIndexes(sql: Sql, parent: QualifiedName): Promise<boolean> {
  const [row] = await sql<{ present: boolean }[]>`select exists (select from pg_index where indrelid = to_regclass(${quoteQualified(parent)})) as present`;
  return row?.present === true;
}

/**
 * The statements that drop `indexes` from `table`: a constraint-backed index by dropping its
 * constraint (which drops the index), any other with DROP INDEX.
 * Example: `ALTER TABLE "s"."t" DROP CONSTRAINT "t_pkey"`, `DROP INDEX "s"."t_payload_idx"`.
 */
export function dropIndexesSql(table: QualifiedName, indexes: ReadonlyArray<TargetIndex>): string[] {
  return indexes.map((index) =>
    index.constraint
      ? `ALTER TABLE ${quoteQualified(table)} DROP CONSTRAINT ${quoteIdent(index.constraint.name)}`
      : `DROP INDEX ${quoteQualified(qualifiedName(table.schema, index.name))}`,
  );
}

/**
 * The statements that build `indexes` on `table` again, in their order: a constraint by
 * `ALTER TABLE ... ADD CONSTRAINT <its name> <pg_get_constraintdef>` (which builds its index under the
 * constraint's name, as before), any other index by its `pg_get_indexdef` text as Postgres printed it.
 * Example: `ALTER TABLE "s"."t" ADD CONSTRAINT "t_pkey" PRIMARY KEY (id, ts)`,
 * `CREATE INDEX t_payload_idx ON s.t USING gin (payload)`.
 */
export function buildIndexesSql(table: QualifiedName, indexes: ReadonlyArray<TargetIndex>): string[] {
  return indexes.map((index) =>
    index.constraint ? `ALTER TABLE ${quoteQualified(table)} ADD CONSTRAINT ${quoteIdent(index.constraint.name)} ${index.constraint.definition}` : index.definition,
  );
}

/** `CREATE TABLE ... (LIKE parent ...)` text of partition-ddl.ts `createLikeParentSql`, with the parent's indexes too. */
export function likeWithIndexesSql(createLikeParent: string): string {
  if (!createLikeParent.endsWith(")")) throw new Error(`not a CREATE TABLE ... (LIKE ...) statement: ${createLikeParent}`);
  return `${createLikeParent.slice(0, -1)} INCLUDING INDEXES)`;
}
