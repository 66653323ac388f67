import type { Sql } from "../db/client.ts";
import { quoteIdent, quoteQualified } from "../db/sql-text.ts";
import { qualifiedName, type QualifiedName } from "../identifier.ts";
import { parseBounds } from "./parse-bounds.ts";
import type {
  CatalogSnapshot,
  ColumnInfo,
  ParentInfo,
  PartitionInfo,
  PartitionMethod,
} from "./types.ts";

/** What the reader needs to know per configured table. */
export interface CatalogRequest {
  readonly name: QualifiedName;
  /** Read max(partition key) too (range-integer premake and retention). */
  readonly wantMaxKey: boolean;
}

/** How much to read besides bounds and columns. */
export interface ReadCatalogOptions {
  /**
   * Read each partition's `pg_total_relation_size` (PartitionInfo.bytes). Default true. It opens every
   * partition, its indexes and TOAST table, so jobs that only plan pass false: sizes are read only
   * where they are shown.
   */
  readonly sizes?: boolean;
}

interface RawRelationRow {
  schema_name: string;
  table_name: string;
  oid: number | null;
  relkind: string | null;
  partstrat: string | null;
  key_has_expression: boolean | null;
}

interface RawPartitionRow {
  parent_oid: number;
  schema_name: string;
  table_name: string;
  bound: string;
  reltuples: number;
  bytes: string | null;
  detach_pending: boolean;
  is_partitioned: boolean;
}

interface RawColumnRow {
  attrelid: number;
  name: string;
  type: string;
  key_position: number | null;
  generated: boolean;
}

const METHODS: Record<string, PartitionMethod> = { r: "range", l: "list", h: "hash" };

/**
 * Reads every requested parent with its direct partitions, bounds, row estimates and (by default)
 * sizes in three set-based queries, the last two concurrent (no query per partition or parent); plus
 * one `max(key)` per range-integer parent.
 * Bounds come from `pg_get_expr(relpartbound, 0)` (DESIGN rule 3), rendered in the session's
 * TimeZone, which createClient sets to UTC. A bound holds only constants, so no relation is needed
 * to print it: with 0 Postgres does not open each partition (half the time of passing its oid).
 */
export async function readCatalog(sql: Sql, requests: ReadonlyArray<CatalogRequest>, options: ReadCatalogOptions = {}): Promise<CatalogSnapshot> {
  const relations = await sql<RawRelationRow[]>`
    select w.schema_name, w.table_name, c.oid::int8::float8 as oid, c.relkind::text, pt.partstrat::text,
           0 = any(pt.partattrs::int2[]) /* 0: an expression */ as key_has_expression
    from jsonb_to_recordset(${sql.json(requests.map((r) => ({ schema_name: r.name.schema, table_name: r.name.name })))})
      as w(schema_name text, table_name text)
    left join pg_namespace n on n.nspname = w.schema_name
    left join pg_class c on c.relnamespace = n.oid and c.relname = w.table_name
      and c.relkind in ('r' /* table */, 'p' /* partitioned table */)
    left join pg_partitioned_table pt on pt.partrelid = c.oid`;

  const missing: QualifiedName[] = [];
  const notPartitioned: QualifiedName[] = [];
  const parentRows: Array<RawRelationRow & { oid: number }> = [];
  for (const row of relations) {
    const name = qualifiedName(row.schema_name, row.table_name);
    if (row.oid === null) missing.push(name);
    else if (row.relkind !== "p") notPartitioned.push(name);
    else parentRows.push(row as RawRelationRow & { oid: number });
  }
  const oids = parentRows.map((r) => r.oid);
  const bytes = options.sizes === false ? sql`null::text` : sql`pg_total_relation_size(c.oid)::text`;

  const [partitionRows, columnRows] = await Promise.all([
    sql<RawPartitionRow[]>`
      select i.inhparent::int8::float8 as parent_oid, n.nspname as schema_name, c.relname as table_name,
             pg_get_expr(c.relpartbound, 0) as bound, c.reltuples::float8 as reltuples,
             ${bytes} as bytes, i.inhdetachpending as detach_pending,
             c.relkind = 'p' /* partitioned table */ as is_partitioned
      from pg_inherits i
      join pg_class c on c.oid = i.inhrelid
      join pg_namespace n on n.oid = c.relnamespace
      where i.inhparent = any(${oidArray(sql, oids)})
      order by c.relname`,
    sql<RawColumnRow[]>`
      select a.attrelid::int8::float8 as attrelid, a.attname as name, format_type(a.atttypid, a.atttypmod) as type,
             k.position::int as key_position, a.attgenerated <> '' as generated
      from pg_attribute a
      left join pg_partitioned_table pt on pt.partrelid = a.attrelid
      left join lateral unnest(pt.partattrs) with ordinality as k(attnum, position) on k.attnum = a.attnum
      where a.attrelid = any(${oidArray(sql, oids)}) and a.attnum > 0 and not a.attisdropped
      order by a.attrelid, a.attnum`,
  ]);
  const partitionsOf = groupBy(partitionRows, (p) => p.parent_oid);
  const columnsOf = groupBy(columnRows, (c) => c.attrelid);
  const wantMaxKey = new Set(requests.filter((r) => r.wantMaxKey).map((r) => JSON.stringify([r.name.schema, r.name.name])));

  const parents: ParentInfo[] = [];
  for (const row of parentRows) {
    const columns = columnsOf.get(row.oid) ?? [];
    const keyColumns: ColumnInfo[] = columns
      .filter((c) => c.key_position !== null)
      .sort((a, b) => a.key_position! - b.key_position!)
      .map((c) => ({ name: c.name, type: c.type }));
    const parent = qualifiedName(row.schema_name, row.table_name);
    const partitions = (partitionsOf.get(row.oid) ?? []).map(toPartitionInfo);
    parents.push(
      Object.freeze({
        parent,
        method: METHODS[row.partstrat!]!,
        keyColumns,
        keyHasExpression: row.key_has_expression === true,
        columns: columns.map((c) => (c.generated ? { name: c.name, type: c.type, generated: true } : { name: c.name, type: c.type })),
        partitions,
        maxKey: wantMaxKey.has(JSON.stringify([parent.schema, parent.name])) && keyColumns.length === 1 ? await readMaxKey(sql, parent, keyColumns[0]!.name, partitions) : null,
      }),
    );
  }

  return Object.freeze({
    parents,
    missing,
    notPartitioned,
  });
}

function groupBy<T, K>(rows: ReadonlyArray<T>, key: (row: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const row of rows) {
    const group = groups.get(key(row));
    if (group) group.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
}

/**
 * Sets go to Postgres as JSON, not `sql.array`: postgres.js serializes array parameters wrongly on
 * a pooled connection's first query, before it has fetched the server's types ("malformed array literal").
 */
function oidArray(sql: Sql, oids: ReadonlyArray<number>) {
  return sql`array(select jsonb_array_elements_text(${sql.json(oids as number[])})::oid)`;
}

function toPartitionInfo(row: RawPartitionRow): PartitionInfo {
  return Object.freeze({
    name: qualifiedName(row.schema_name, row.table_name),
    boundExpression: row.bound,
    bounds: parseBounds(row.bound),
    rowEstimate: row.reltuples,
    bytes: row.bytes === null ? null : Number(row.bytes),
    detachPending: row.detach_pending,
    isPartitioned: row.is_partitioned,
  });
}

/**
 * max(key) as text over the parent's non-default partitions; index-backed on a btree over the key
 * (the partition key usually leads one). The default partition is left out: one stray far-out row
 * there would otherwise move premake (and gap filling) to it.
 */
async function readMaxKey(sql: Sql, parent: QualifiedName, key: string, partitions: ReadonlyArray<PartitionInfo>): Promise<string | null> {
  const defaultPartition = partitions.find((p) => p.bounds.kind === "default");
  const column = sql.unsafe(quoteIdent(key));
  const [row] = defaultPartition
    ? await sql`select max(${column})::text as max from ${sql.unsafe(quoteQualified(parent))}
        where tableoid <> ${quoteQualified(defaultPartition.name)}::regclass`
    : await sql`select max(${column})::text as max from ${sql.unsafe(quoteQualified(parent))}`;
  return (row?.max as string | null) ?? null;
}
