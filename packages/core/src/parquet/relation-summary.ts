import type postgres from "postgres";
import type { ColumnInfo } from "../catalog/types.ts";
import { ArchiveError } from "../errors.ts";
import { displayName, type QualifiedName } from "../identifier.ts";
import { applyArchiveSessionSettings } from "./copy-client.ts";
import { columnDigestQuery, contentSummaryQuery, postgresDigestColumns, readColumnDigests, readContentSummary, type ContentSummary } from "./content-digest.ts";
import { postgresKeySummary } from "./parquet-types.ts";
import { literal } from "../db/sql-text.ts";
import { quoteIdent, quoteQualified } from "./quote.ts";
import type { ContentRelationSummary, RelationSummary } from "./read-parquet.ts";

/**
 * Heap pages `[firstPage, endPage)` of a relation (endPage null: to the end), one part of an archive
 * in several parts (archive/archive-parts.ts). A detached partition under its archive guard does not
 * change, so its rows stay on their pages and disjoint ranges that together cover every page give
 * every row exactly once (VACUUM FULL or CLUSTER rewrite the table under a new relfilenode, which
 * the archive checks).
 */
export interface PageRange {
  readonly firstPage: number;
  readonly endPage: number | null;
}

/**
 * The WHERE condition selecting the rows of `range` by their `ctid`, read by a TID Range Scan
 * (PostgreSQL 14+; older servers filter a sequential scan, same rows). Page numbers are checked
 * integers rendered by db/sql-text.ts `literal()`, since `COPY (query)` takes no bind parameters:
 *
 * ```sql
 * ctid >= '(128,0)'::tid and ctid < '(256,0)'::tid
 * ctid >= '(256,0)'::tid                              -- the last part: open-ended
 * ```
 * @throws ArchiveError when a page number is not a non-negative integer or the range is empty.
 */
export function pageRangeCondition(range: PageRange): string {
  const page = (n: number) => {
    if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new ArchiveError(`page number must be an integer from 0 to 2^32-1, got ${n}`);
    return `${literal(`(${n},0)`)}::tid`;
  };
  const from = `ctid >= ${page(range.firstPage)}`;
  if (range.endPage === null) return from;
  if (range.endPage <= range.firstPage) throw new ArchiveError(`empty page range ${range.firstPage}..${range.endPage}`);
  return `${from} and ctid < ${page(range.endPage)}`;
}

/** `"s"."p"`, or `"s"."p" where <page range>` as a FROM item plus condition for a query ending in it. */
export function relationSource(relation: QualifiedName, range?: PageRange): string {
  return range === undefined ? quoteQualified(relation) : `${quoteQualified(relation)} where ${pageRangeCondition(range)}`;
}

/**
 * Row count and key min/max of a relation in Postgres, rendered exactly like `readParquetContent`
 * renders the Parquet side (parquet-types.ts `keyRendering`: epoch microseconds for timestamps, text
 * under byte order for strings), so verify compares plain strings. One full scan:
 *
 * ```sql
 * select count(*)::bigint as rows,
 *        trunc(extract(epoch from min("createdAt")) * 1000000)::text as key_min, ... as key_max
 * from "public"."events_2024_01"
 * ```
 *
 * Ordinary query on `sql` (no COPY), so any client is fine.
 * @param keyColumn the partition key column with its `format_type()` text, or null for rows only.
 * @throws ArchiveError naming the relation when the query fails.
 */
export async function summarizeRelation(sql: postgres.Sql, relation: QualifiedName, keyColumn: ColumnInfo | null): Promise<RelationSummary> {
  const keyList = keyColumn === null ? "null::text as key_min, null::text as key_max" : postgresKeySummary(keyColumn.type, quoteIdent(keyColumn.name));
  let rows: ReadonlyArray<{ rows: string; key_min: string | null; key_max: string | null }>;
  try {
    rows = await sql.unsafe(`select count(*)::text as rows, ${keyList} from ${quoteQualified(relation)}`);
  } catch (error) {
    throw new ArchiveError(`could not summarize ${displayName(relation)} for verification: ${(error as Error).message}`, { cause: error });
  }
  const row = rows[0]!;
  return Object.freeze({ rows: Number(row.rows), keyMin: row.key_min, keyMax: row.key_max });
}

/**
 * The content summary of a relation in Postgres (content-digest.ts: rows, per-column NULLs, the row
 * digest) plus the key min/max of `summarizeRelation`, in one scan, in a read-only
 * transaction under the archive COPY session settings. `columns` in table order (`format_type()` text);
 * `range`: only the rows on those pages (one part of an archive in several parts).
 * @throws ArchiveError naming the relation when the query fails.
 */
export async function summarizeRelationContent(
  sql: postgres.Sql,
  relation: QualifiedName,
  columns: ReadonlyArray<ColumnInfo>,
  keyColumn: ColumnInfo | null,
  range?: PageRange,
): Promise<ContentRelationSummary> {
  const keySummary = keyColumn === null ? undefined : postgresKeySummary(keyColumn.type, quoteIdent(keyColumn.name));
  const query = contentSummaryQuery(postgresDigestColumns(columns), "postgres", relationSource(relation, range), keySummary);
  const row = await queryUnderArchiveSettings(sql, relation, query);
  const content: ContentSummary = readContentSummary(columns, row);
  return Object.freeze({
    rows: content.rows,
    keyMin: keyColumn === null ? null : ((row.key_min as string | null) ?? null),
    keyMax: keyColumn === null ? null : ((row.key_max as string | null) ?? null),
    content,
  });
}

/** Per-column digests of a relation or of the rows on `range` (content-digest.ts `columnDigestQuery`), to name differing columns. */
export async function relationColumnDigests(sql: postgres.Sql, relation: QualifiedName, columns: ReadonlyArray<ColumnInfo>, range?: PageRange): Promise<string[]> {
  const row = await queryUnderArchiveSettings(sql, relation, columnDigestQuery(postgresDigestColumns(columns), "postgres", relationSource(relation, range)));
  return readColumnDigests(columns, row);
}

/** Runs one query in a read-only transaction under the archive COPY session settings. */
async function queryUnderArchiveSettings(sql: postgres.Sql, relation: QualifiedName, query: string): Promise<Record<string, unknown>> {
  try {
    return await sql.begin("read only", async (tx) => {
      await applyArchiveSessionSettings(tx, true);
      const [first] = await tx.unsafe(query);
      return first as Record<string, unknown>;
    });
  } catch (error) {
    throw new ArchiveError(`could not summarize ${displayName(relation)} for verification: ${(error as Error).message}`, { cause: error });
  }
}
