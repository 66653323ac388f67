import type { Sql } from "../db/client.ts";
import { quoteQualified } from "../db/sql-text.ts";
import { qualifiedName, type QualifiedName } from "../identifier.ts";

/**
 * Everything a migration needs to know of a plain table before it builds a partitioned copy and
 * swaps it in: columns, keys, indexes, constraints, what depends on it, its grants and comment.
 * Read-only; a handful of small catalog queries.
 */

export interface ShapeColumn {
  readonly name: string;
  /** `format_type(atttypid, atttypmod)`, e.g. `timestamp with time zone`. */
  readonly type: string;
  readonly notNull: boolean;
  /** Stored generated column: computed, never written. */
  readonly generated: boolean;
  /** `a` GENERATED ALWAYS AS IDENTITY, `d` BY DEFAULT, `""` none. */
  readonly identity: "a" | "d" | "";
  /** The sequence behind an identity or serial column (`pg_get_serial_sequence`), or null. */
  readonly sequence: QualifiedName | null;
}

/** One key part of an index: a column, or an expression as Postgres prints it (`pg_get_indexdef(oid, k, true)`). */
export interface IndexKey {
  readonly column: string | null;
  readonly expression: string | null;
  /** A non-default operator class, or null. */
  readonly opclass: QualifiedName | null;
  /** A collation other than the column's, or null. */
  readonly collation: QualifiedName | null;
  readonly descending: boolean;
  readonly nullsFirst: boolean;
}

export interface ShapeIndex {
  readonly name: string;
  /** Access method, e.g. `btree`, `gin`. */
  readonly method: string;
  readonly unique: boolean;
  /** The constraint it backs (`p` primary key, `u` unique, `x` exclusion), or null for a plain index. */
  readonly constraint: "p" | "u" | "x" | null;
  readonly keys: ReadonlyArray<IndexKey>;
  /** INCLUDE columns. */
  readonly include: ReadonlyArray<string>;
  /** Partial index predicate (`pg_get_expr(indpred)`), or null. */
  readonly predicate: string | null;
}

export interface ShapeConstraint {
  readonly name: string;
  /** `pg_get_constraintdef(oid)`, e.g. `FOREIGN KEY (user_id) REFERENCES users(id)`. */
  readonly definition: string;
}

export interface ShapeGrant {
  /** Role name, or null for PUBLIC. */
  readonly grantee: string | null;
  /** `SELECT`, `INSERT`, ... as `aclexplode` names them. */
  readonly privilege: string;
  readonly grantable: boolean;
}

export interface TableShape {
  readonly name: QualifiedName;
  /** `pg_class.relkind`: `r` plain table, `p` partitioned, others (views, ...) are not tables. */
  readonly relkind: string;
  /** It is itself a partition, or has inheritance children. */
  readonly inherits: boolean;
  readonly columns: ReadonlyArray<ShapeColumn>;
  /** Primary key columns in key order; empty when there is none. */
  readonly primaryKey: ReadonlyArray<string>;
  readonly indexes: ReadonlyArray<ShapeIndex>;
  /** Outgoing foreign keys. */
  readonly foreignKeys: ReadonlyArray<ShapeConstraint>;
  /** Foreign keys of other tables that reference this one: `<table>.<constraint>`. */
  readonly referencedBy: ReadonlyArray<{ readonly table: QualifiedName; readonly constraint: string }>;
  /** Views and materialized views that select from it. */
  readonly dependentViews: ReadonlyArray<QualifiedName>;
  /** User triggers (not internal ones, not partkeeper's capture). */
  readonly triggers: ReadonlyArray<string>;
  readonly comment: string | null;
  readonly grants: ReadonlyArray<ShapeGrant>;
  /** `pg_class.reltuples` (rows; -1 when never analyzed). */
  readonly rowEstimate: number;
  readonly owner: string;
}

/** The shape of `name`, or null when no relation has that name. */
export async function readTableShape(sql: Sql, name: QualifiedName): Promise<TableShape | null> {
  const regclass = quoteQualified(name);
  const [rel] = await sql<{ oid: number; relkind: string; inherits: boolean; comment: string | null; reltuples: number; owner: string }[]>`
    select c.oid::int8::float8 as oid, c.relkind::text as relkind, c.reltuples::float8 as reltuples,
           pg_get_userbyid(c.relowner) as owner,
           c.relispartition or exists (select 1 from pg_inherits i where i.inhparent = c.oid) as inherits,
           obj_description(c.oid, 'pg_class') as comment
    from pg_class c where c.oid = to_regclass(${regclass})`;
  if (!rel) return null;
  const oid = rel.oid;

  const columns = await sql<(Omit<ShapeColumn, "sequence"> & { seqSchema: string | null; seqName: string | null })[]>`
    select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as "notNull",
           a.attgenerated <> '' as generated, a.attidentity::text as identity,
           sn.nspname as "seqSchema", s.relname as "seqName"
    from pg_attribute a
    left join pg_class s on s.oid = pg_get_serial_sequence(${regclass}, a.attname)::regclass
    left join pg_namespace sn on sn.oid = s.relnamespace
    where a.attrelid = ${oid} and a.attnum > 0 and not a.attisdropped
    order by a.attnum`;

  const indexRows = await sql<
    { name: string; method: string; unique: boolean; constraint: string | null; predicate: string | null; keyCount: number; keys: RawIndexKey[] }[]
  >`
    select ic.relname as name, am.amname as method, i.indisunique as unique,
           (select co.contype::text from pg_constraint co where co.conindid = i.indexrelid and co.conrelid = i.indrelid limit 1) as constraint,
           pg_get_expr(i.indpred, i.indrelid, true) as predicate, i.indnkeyatts as "keyCount",
           (select json_agg(json_build_object(
                     'column', a.attname,
                     'definition', pg_get_indexdef(i.indexrelid, k, true),
                     'opclassSchema', case when opc.opcdefault then null else ocn.nspname end,
                     'opclassName', case when opc.opcdefault then null else opc.opcname end,
                     'collationSchema', case when coll.oid <> coalesce(a.attcollation, 0) and coll.collname <> 'default' then colln.nspname end,
                     'collationName', case when coll.oid <> coalesce(a.attcollation, 0) and coll.collname <> 'default' then coll.collname end,
                     'option', coalesce(i.indoption[k - 1], 0)) order by k)
            from generate_series(1, i.indnatts) k
            left join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[k - 1] and i.indkey[k - 1] > 0
            left join pg_opclass opc on k <= i.indnkeyatts and opc.oid = i.indclass[k - 1]
            left join pg_namespace ocn on ocn.oid = opc.opcnamespace
            left join pg_collation coll on k <= i.indnkeyatts and coll.oid = nullif(i.indcollation[k - 1], 0)
            left join pg_namespace colln on colln.oid = coll.collnamespace) as keys
    from pg_index i
    join pg_class ic on ic.oid = i.indexrelid
    join pg_am am on am.oid = ic.relam
    where i.indrelid = ${oid}
    order by ic.relname`;
  const indexes = indexRows.map((row): ShapeIndex => {
    const keys = row.keys.slice(0, row.keyCount).map(
      (k): IndexKey => ({
        column: k.column,
        expression: k.column === null ? k.definition : null,
        opclass: k.opclassName === null ? null : qualifiedName(k.opclassSchema!, k.opclassName),
        collation: k.collationName === null ? null : qualifiedName(k.collationSchema!, k.collationName),
        // pg_index.indoption bits: 1 INDOPTION_DESC, 2 INDOPTION_NULLS_FIRST (catalog/pg_index.h).
        descending: (k.option & 1) !== 0,
        nullsFirst: (k.option & 2) !== 0,
      }),
    );
    return {
      name: row.name,
      method: row.method,
      unique: row.unique,
      constraint: row.constraint === "p" || row.constraint === "u" || row.constraint === "x" ? row.constraint : null,
      keys,
      include: row.keys.slice(row.keyCount).map((k) => k.column ?? k.definition),
      predicate: row.predicate,
    };
  });
  const primary = indexes.find((i) => i.constraint === "p");

  const foreignKeys = await sql<ShapeConstraint[]>`
    select conname as name, pg_get_constraintdef(oid) as definition
    from pg_constraint where conrelid = ${oid} and contype = 'f' order by conname`;
  const referencedBy = await sql<{ schema: string; table: string; constraint: string }[]>`
    select n.nspname as schema, c.relname as table, co.conname as constraint
    from pg_constraint co join pg_class c on c.oid = co.conrelid join pg_namespace n on n.oid = c.relnamespace
    where co.confrelid = ${oid} and co.contype = 'f' and co.conrelid <> ${oid}
    order by 1, 2, 3`;
  const views = await sql<{ schema: string; name: string }[]>`
    select distinct n.nspname as schema, v.relname as name
    from pg_depend d
    join pg_rewrite r on r.oid = d.objid
    join pg_class v on v.oid = r.ev_class
    join pg_namespace n on n.oid = v.relnamespace
    where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass
      and d.refobjid = ${oid} and v.oid <> ${oid}
    order by 1, 2`;
  const triggers = await sql<{ name: string }[]>`
    select tgname as name from pg_trigger
    where tgrelid = ${oid} and not tgisinternal and tgname not like 'partkeeper_%'
    order by tgname`;
  const grants = await sql<{ grantee: string | null; privilege: string; grantable: boolean }[]>`
    select case when g.grantee = 0 then null else pg_get_userbyid(g.grantee) end as grantee,
           g.privilege_type as privilege, g.is_grantable as grantable
    from pg_class c, aclexplode(c.relacl) g
    where c.oid = ${oid} and g.grantee <> c.relowner
    order by 1 nulls first, 2`;

  return Object.freeze({
    name,
    relkind: rel.relkind,
    inherits: rel.inherits,
    columns: columns.map(({ seqSchema, seqName, ...c }) => ({
      ...c,
      identity: (c.identity === "a" || c.identity === "d" ? c.identity : "") as ShapeColumn["identity"],
      sequence: seqName === null ? null : qualifiedName(seqSchema!, seqName),
    })),
    primaryKey: primary ? primary.keys.map((k) => k.column ?? "") : [],
    indexes,
    foreignKeys,
    referencedBy: referencedBy.map((r) => ({ table: qualifiedName(r.schema, r.table), constraint: r.constraint })),
    dependentViews: views.map((v) => qualifiedName(v.schema, v.name)),
    triggers: triggers.map((t) => t.name),
    comment: rel.comment,
    grants,
    rowEstimate: rel.reltuples,
    owner: rel.owner,
  });
}

interface RawIndexKey {
  column: string | null;
  definition: string;
  opclassSchema: string | null;
  opclassName: string | null;
  collationSchema: string | null;
  collationName: string | null;
  option: number;
}
