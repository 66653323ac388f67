import type { IndexDefinition } from "../catalog/read-relation.ts";
import { quoteIdent, quoteQualified } from "../db/sql-text.ts";
import { qualifiedName, type QualifiedName } from "../identifier.ts";

/**
 * Indexes of an attach-mode restore target, set aside while it loads and built once after the load
 * (restore-partition.ts). The definitions are Postgres's own text for the target itself
 * (`pg_get_indexdef`, `pg_get_constraintdef`, catalog/read-relation.ts `readIndexDefinitions`), never assembled from the
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

/**
 * The statements that drop `indexes` from `table`: a constraint-backed index by dropping its
 * constraint (which drops the index), any other with DROP INDEX.
 * Example: `ALTER TABLE "s"."t" DROP CONSTRAINT "t_pkey"`, `DROP INDEX "s"."t_payload_idx"`.
 */
export function dropIndexesSql(table: QualifiedName, indexes: ReadonlyArray<IndexDefinition>): string[] {
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
export function buildIndexesSql(table: QualifiedName, indexes: ReadonlyArray<IndexDefinition>): string[] {
  return indexes.map((index) =>
    index.constraint ? `ALTER TABLE ${quoteQualified(table)} ADD CONSTRAINT ${quoteIdent(index.constraint.name)} ${index.constraint.definition}` : index.definition,
  );
}

/** `CREATE TABLE ... (LIKE parent ...)` text of partition-ddl.ts `createLikeParentSql`, with the parent's indexes too. */
export function likeWithIndexesSql(createLikeParent: string): string {
  if (!createLikeParent.endsWith(")")) throw new Error(`not a CREATE TABLE ... (LIKE ...) statement: ${createLikeParent}`);
  return `${createLikeParent.slice(0, -1)} INCLUDING INDEXES)`;
}
