import type { ColumnInfo } from "./types.ts";
import type { Sql } from "../db/client.ts";
import { quoteQualified } from "../db/sql-text.ts";
import { displayName, qualifiedName, type QualifiedName } from "../identifier.ts";
import type { ManifestColumn } from "../archive/manifest.ts";

/**
 * Catalog reads restore needs between its steps (read-only; one small query each). Relations are
 * looked up with `to_regclass(<quoted name>)`, so names with dots, quotes or unicode address the
 * right table.
 */

/** One relation as restore sees it. */
export interface RestoreRelation {
  /** `pg_class.relkind`: `r` table, `p` partitioned table, others (views, ...) are refused. */
  readonly relkind: string;
  /** The parent it is a partition of, or null. */
  readonly attachedTo: QualifiedName | null;
  /** `pg_get_expr(relpartbound, oid)` (TimeZone UTC, as createClient sets it) when attached, else null. */
  readonly boundExpression: string | null;
  /** Columns in attnum order, with `format_type()` text and `generated` (stored or virtual) set. */
  readonly columns: ReadonlyArray<ColumnInfo>;
}

/** The relation `name`, or null when there is none. */
export async function readRestoreRelation(sql: Sql, name: QualifiedName): Promise<RestoreRelation | null> {
  const regclass = quoteQualified(name);
  const [row] = await sql`
    select c.relkind::text as relkind, pn.nspname as parent_schema, p.relname as parent_name,
           case when i.inhrelid is not null then pg_get_expr(c.relpartbound, c.oid) end as bound
    from pg_class c
    left join pg_inherits i on i.inhrelid = c.oid
    left join pg_class p on p.oid = i.inhparent
    left join pg_namespace pn on pn.oid = p.relnamespace
    where c.oid = to_regclass(${regclass})`;
  if (!row) return null;
  const columns = await sql<ColumnInfo[]>`
    select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attgenerated <> '' as generated
    from pg_attribute a
    where a.attrelid = to_regclass(${regclass}) and a.attnum > 0 and not a.attisdropped
    order by a.attnum`;
  return Object.freeze({
    relkind: row.relkind as string,
    attachedTo: row.parent_schema === null ? null : qualifiedName(row.parent_schema as string, row.parent_name as string),
    boundExpression: (row.bound as string | null) ?? null,
    columns: columns.map((c) => (c.generated ? { name: c.name, type: c.type, generated: true } : { name: c.name, type: c.type })),
  });
}

/** The default partition of `parent`, or null. */
export async function readDefaultPartition(sql: Sql, parent: QualifiedName): Promise<QualifiedName | null> {
  const [row] = await sql`
    select n.nspname as schema, c.relname as name
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    join pg_namespace n on n.oid = c.relnamespace
    where i.inhparent = to_regclass(${quoteQualified(parent)}) and pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'`;
  return row ? qualifiedName(row.schema as string, row.name as string) : null;
}

/** The partition of `parent` called `name` (any schema; Postgres error messages give only the name), with its bounds. */
export async function findPartitionByName(sql: Sql, parent: QualifiedName, name: string): Promise<{ name: QualifiedName; boundExpression: string } | null> {
  const [row] = await sql`
    select n.nspname as schema, c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    join pg_namespace n on n.oid = c.relnamespace
    where i.inhparent = to_regclass(${quoteQualified(parent)}) and c.relname = ${name}
    limit 1`;
  return row ? { name: qualifiedName(row.schema as string, row.name as string), boundExpression: row.bound as string } : null;
}

/**
 * How `columns` (a parent's, or an existing target's) differ from the archive's: a manifest column
 * missing or of another type, or a column the archive does not have. Empty when they are the same
 * set of names and types (order does not matter: COPY and ATTACH match columns by name).
 * A parent that gained a column since the archive counts too: attaching would give the archived rows
 * values they never had (the column's default or NULL, or fail on NOT NULL), so attach mode refuses
 * and side-table mode builds the table from the manifest's types (docs/restore.md).
 * Example: `amount numeric(12,2) (now numeric(14,2))`, `note text (missing)`, `extra text (added since the archive)`.
 */
export function columnDifferences(manifest: ReadonlyArray<ManifestColumn>, columns: ReadonlyArray<ColumnInfo>): string[] {
  const byName = new Map(columns.map((c) => [c.name, c.type]));
  const archived = new Set(manifest.map((m) => m.name));
  return [
    ...manifest.flatMap((m) => {
      const type = byName.get(m.name);
      if (type === undefined) return [`${m.name} ${m.pgType} (missing)`];
      return type === m.pgType ? [] : [`${m.name} ${m.pgType} (now ${type})`];
    }),
    ...columns.filter((c) => !archived.has(c.name)).map((c) => `${c.name} ${c.type} (added since the archive)`),
  ];
}

/**
 * Columns that are generated in one of `parent` and `table` and plain in the other, e.g.
 * `column g is generated in public.events and a plain column here`. ATTACH refuses such a table
 * (`column "g" in child table must be a generated column`). Empty when they agree.
 */
export function generatedDifferences(parent: QualifiedName, parentColumns: ReadonlyArray<ColumnInfo>, table: ReadonlyArray<ColumnInfo>): string[] {
  const generated = new Map(table.map((c) => [c.name, c.generated === true]));
  return parentColumns.flatMap((c) => {
    const here = generated.get(c.name);
    if (here === undefined || here === (c.generated === true)) return [];
    return [`column ${c.name} is ${c.generated ? "generated" : "plain"} in ${displayName(parent)} and ${here ? "a generated" : "a plain"} column here`];
  });
}

/**
 * Each `pgType` the manifest names that this database does not know as a type (`to_regtype` is NULL
 * or fails): an enum or domain that was dropped, or text that is not a type name at all. Checked before
 * the types are spliced into `CREATE TABLE` (restore-sql.ts `createFromManifestSql`).
 */
export async function unknownTypes(sql: Sql, columns: ReadonlyArray<ManifestColumn>): Promise<string[]> {
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
