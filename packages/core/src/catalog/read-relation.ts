import type { ColumnInfo } from "./types.ts";
import type { Sql } from "../db/client.ts";
import { quoteQualified } from "../db/sql-text.ts";
import { qualifiedName, type QualifiedName } from "../identifier.ts";

/**
 * Reads of one relation between the steps of a job (read-only; one small query each). Relations are
 * looked up with `to_regclass(<quoted name>)`, so names with dots, quotes or unicode address the
 * right table; a relation that does not exist reads as absent, never as an error.
 */

/** One relation: its kind, where it is attached and its columns. */
export interface RelationInfo {
  /** `pg_class.relkind`: `r` table, `p` partitioned table, others (views, ...) are refused. */
  readonly relkind: string;
  /** The parent it is a partition of, or null. */
  readonly attachedTo: QualifiedName | null;
  /** `pg_get_expr(relpartbound, oid)` (TimeZone UTC, as createClient sets it) when attached, else null. */
  readonly boundExpression: string | null;
  /** Columns in attnum order, with `format_type()` text and `generated` (stored or virtual) set. */
  readonly columns: ReadonlyArray<ColumnInfo>;
}

interface RawRelationRow {
  relkind: string;
  parent_schema: string | null;
  parent_name: string | null;
  bound: string | null;
}

interface RawColumnRow {
  name: string;
  type: string;
  generated: boolean;
}

interface RawPartitionRow {
  schema: string;
  name: string;
  bound: string;
}

/** The relation `name`, or null when there is none. */
export async function readRelation(sql: Sql, name: QualifiedName): Promise<RelationInfo | null> {
  const regclass = quoteQualified(name);
  const [row] = await sql<RawRelationRow[]>`
    select c.relkind::text as relkind, pn.nspname as parent_schema, p.relname as parent_name,
           case when i.inhrelid is not null then pg_get_expr(c.relpartbound, c.oid) end as bound
    from pg_class c
    left join pg_inherits i on i.inhrelid = c.oid
    left join pg_class p on p.oid = i.inhparent
    left join pg_namespace pn on pn.oid = p.relnamespace
    where c.oid = to_regclass(${regclass})`;
  if (!row) return null;
  const columns = await sql<RawColumnRow[]>`
    select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attgenerated <> '' as generated
    from pg_attribute a
    where a.attrelid = to_regclass(${regclass}) and a.attnum > 0 and not a.attisdropped
    order by a.attnum`;
  return Object.freeze({
    relkind: row.relkind,
    attachedTo: row.parent_schema === null ? null : qualifiedName(row.parent_schema, row.parent_name!),
    boundExpression: row.bound,
    columns: columns.map((c) => (c.generated ? { name: c.name, type: c.type, generated: true } : { name: c.name, type: c.type })),
  });
}

/** The default partition of `parent`, or null. */
export async function readDefaultPartition(sql: Sql, parent: QualifiedName): Promise<QualifiedName | null> {
  const [row] = await sql<Pick<RawPartitionRow, "schema" | "name">[]>`
    select n.nspname as schema, c.relname as name
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    join pg_namespace n on n.oid = c.relnamespace
    where i.inhparent = to_regclass(${quoteQualified(parent)}) and pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'`;
  return row ? qualifiedName(row.schema, row.name) : null;
}

/** The partition of `parent` called `name` (any schema; Postgres error messages give only the name), with its bounds. */
export async function findPartitionByName(sql: Sql, parent: QualifiedName, name: string): Promise<{ name: QualifiedName; boundExpression: string } | null> {
  const [row] = await sql<RawPartitionRow[]>`
    select n.nspname as schema, c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    join pg_namespace n on n.oid = c.relnamespace
    where i.inhparent = to_regclass(${quoteQualified(parent)}) and c.relname = ${name}
    limit 1`;
  return row ? { name: qualifiedName(row.schema, row.name), boundExpression: row.bound } : null;
}

/**
 * Each `pgType` the manifest names that this database does not know as a type (`to_regtype` is NULL
 * or fails): an enum or domain that was dropped, or text that is not a type name at all. Checked before
 * the types are spliced into `CREATE TABLE` (restore-sql.ts `createFromManifestSql`).
 */
export async function unknownTypes(sql: Sql, columns: ReadonlyArray<{ readonly pgType: string }>): Promise<string[]> {
  const unknown: string[] = [];
  for (const type of new Set(columns.map((c) => c.pgType))) {
    const known = await sql`select to_regtype(${type}) is not null as ok`.then(
      ([r]) => Boolean(r?.ok),
      () => false,
    );
    if (!known) unknown.push(type);
  }
  return unknown;
}

/** True when the relation exists. */
export async function relationExists(sql: Sql, relation: QualifiedName): Promise<boolean> {
  const [row] = await sql<{ present: boolean }[]>`select to_regclass(${quoteQualified(relation)}) is not null as present`;
  return Boolean(row?.present);
}

/**
 * Whether `partition` is attached to a parent, pending detach (an interrupted `DETACH ... CONCURRENTLY`,
 * `pg_inherits.inhdetachpending`), or detached; a table that does not exist counts as detached.
 */
export async function attachment(sql: Sql, partition: QualifiedName): Promise<"attached" | "pending" | "detached"> {
  const [row] = await sql<{ pending: boolean }[]>`
    select i.inhdetachpending as pending from pg_inherits i
    where i.inhrelid = to_regclass(${quoteQualified(partition)})`;
  if (!row) return "detached";
  return row.pending ? "pending" : "attached";
}

/** True when the table exists and has trigger `trigger` enabled ALWAYS (`pg_trigger.tgenabled = 'A'`). */
export async function hasAlwaysTrigger(sql: Sql, table: QualifiedName, trigger: string): Promise<boolean> {
  const [row] = await sql<{ present: boolean }[]>`
    select exists (select 1 from pg_trigger t
      where t.tgrelid = to_regclass(${quoteQualified(table)}) and t.tgname = ${trigger}
        and t.tgenabled = 'A' /* always */) as present`;
  return Boolean(row?.present);
}

/** `pg_total_relation_size` (heap, indexes, TOAST) in bytes; 0 when the relation does not exist. */
export async function relationBytes(sql: Sql, relation: QualifiedName): Promise<number> {
  const [row] = await sql<{ bytes: number }[]>`
    select coalesce(pg_total_relation_size(to_regclass(${quoteQualified(relation)})), 0)::float8 as bytes`;
  return row?.bytes ?? 0;
}

/**
 * Locks one `CREATE TABLE ... PARTITION OF parent` takes on objects it creates and holds to the end
 * of its transaction: the table, one index per index of `parent`, and a TOAST table and its index
 * when a column may be stored out of line (`attstorage <> 'p'`, plain). 0 when `parent` does not exist.
 */
export async function newPartitionLocks(sql: Sql, parent: QualifiedName): Promise<number> {
  const [row] = await sql<{ locks: number }[]>`
    select case when p.oid is null then 0 else 1
      + (select count(*)::int from pg_index x where x.indrelid = p.oid)
      + case when exists (select 1 from pg_attribute a where a.attrelid = p.oid and a.attnum > 0 and not a.attisdropped
                          and a.attstorage <> 'p' /* plain */) then 2 else 0 end end as locks
    from (select to_regclass(${quoteQualified(parent)}) as oid) p`;
  return row?.locks ?? 0;
}

/** Heap pages, table bytes (heap + TOAST) and relfilenode of a relation. */
export interface RelationLayout {
  readonly pages: number;
  /** `pg_table_size`: heap, TOAST, free space and visibility maps. */
  readonly tableBytes: number;
  readonly relfilenode: string;
}

/**
 * Reads the layout of `relation` (the relation's name is a bind parameter):
 *
 * ```sql
 * select pg_relation_size(r) / current_setting('block_size')::bigint as pages, pg_table_size(r) as table_bytes,
 *        pg_relation_filenode(r)::text as relfilenode
 * from (select $1::regclass as r) t     -- $1 = '"s"."p"'
 * ```
 */
export async function readRelationLayout(sql: Sql, relation: QualifiedName): Promise<RelationLayout> {
  const [row] = await sql`
    select (pg_relation_size(r) / current_setting('block_size')::bigint)::float8 as pages, pg_table_size(r)::float8 as table_bytes,
           pg_relation_filenode(r)::text as relfilenode
    from (select ${quoteQualified(relation)}::regclass as r) t`;
  return { pages: Number(row!.pages), tableBytes: Number(row!.table_bytes), relfilenode: String(row!.relfilenode) };
}

/** One index of a table, as Postgres prints it (restore sets a target's aside while it loads); `constraint` when it backs a PRIMARY KEY, UNIQUE or EXCLUDE constraint. */
export interface IndexDefinition {
  /** The index's name (in the target's schema). */
  readonly name: string;
  /** `pg_get_indexdef`: `CREATE UNIQUE INDEX t_a_key ON s.t USING btree (a)`. */
  readonly definition: string;
  /** The constraint the index backs: its name and `pg_get_constraintdef` text (`PRIMARY KEY (id, ts)`). */
  readonly constraint: { readonly name: string; readonly definition: string } | null;
}

interface RawIndexDefinitionRow {
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
export async function readIndexDefinitions(sql: Sql, table: QualifiedName): Promise<IndexDefinition[]> {
  const rows = await sql<RawIndexDefinitionRow[]>`
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
