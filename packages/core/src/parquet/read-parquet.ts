import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { ArchiveError } from "../errors.ts";
import { openDuckdb, type DuckdbOptions, type DuckdbSession } from "./duckdb-session.ts";
import { columnDigestQuery, contentSummaryQuery, readColumnDigests, readContentSummary, type ContentSummary, type DigestColumn } from "./content-digest.ts";
import { duckdbKeySummary, type ParquetColumn } from "./parquet-types.ts";
import { quoteIdent, quoteLiteral } from "./quote.ts";

/** What verify compares with the partition (partition-summary.ts renders the same way). */
export interface RelationSummary {
  readonly rows: number;
  /** min/max of the key column rendered per parquet-types.ts `keyRendering`; null without key column or rows. */
  readonly keyMin: string | null;
  readonly keyMax: string | null;
}

/** A RelationSummary with the content summary verify compares (content-digest.ts). */
export interface ContentRelationSummary extends RelationSummary {
  readonly content: ContentSummary;
}

/** One column as DuckDB reads it from the Parquet file (`DESCRIBE`). */
export interface DescribedColumn {
  readonly name: string;
  /** DuckDB type, e.g. `DECIMAL(12,2)`, `TIMESTAMP WITH TIME ZONE`, `UUID`, `JSON`. */
  readonly duckdbType: string;
}

/** One leaf of the Parquet schema as `parquet_schema()` reports it (physical and logical types). */
export interface ParquetSchemaEntry {
  readonly name: string;
  readonly type: string | null;
  readonly convertedType: string | null;
  readonly logicalType: string | null;
}

/** SHA-256 of a file, lower-case hex, streamed (no size limit). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/**
 * The content summary of a Parquet file (content-digest.ts) plus the key min/max, in one DuckDB scan
 * that decodes every value. `columns` are the manifest's columns in file order: the file must have
 * exactly those Parquet types, else the archive does not match its description.
 * @throws ArchiveError when the file cannot be read or its columns differ from `columns`.
 */
export async function readParquetContent(
  file: string,
  columns: ReadonlyArray<ParquetColumn>,
  keyColumn: string | null,
  workDir: string,
  duckdbOptions: DuckdbOptions = {},
): Promise<ContentRelationSummary> {
  const duck = await openDuckdb(workDir, duckdbOptions);
  try {
    await assertParquetColumns(duck.query, file, columns);
    const digest = digestColumns(columns);
    const key = keyColumn === null ? undefined : digest.find((c) => c.name === keyColumn);
    if (keyColumn !== null && key === undefined) throw new ArchiveError(`Parquet file ${file} has no column ${JSON.stringify(keyColumn)}`);
    const keySummary = key === undefined ? undefined : duckdbKeySummary(key.parquetType, key.ref);
    const query = contentSummaryQuery(digest, "duckdb", parquetSource(file, columns), keySummary);
    const [row] = await duck.query(query, `read back ${file}`);
    const content = readContentSummary(columns, row!);
    return Object.freeze({
      rows: content.rows,
      keyMin: keySummary ? ((row!.key_min as string | null) ?? null) : null,
      keyMax: keySummary ? ((row!.key_max as string | null) ?? null) : null,
      content,
    });
  } finally {
    duck.close();
  }
}

/** Per-column digests of a Parquet file (content-digest.ts `columnDigestQuery`), to name differing columns. */
export async function readParquetColumnDigests(file: string, columns: ReadonlyArray<ParquetColumn>, workDir: string, duckdbOptions: DuckdbOptions = {}): Promise<string[]> {
  const duck = await openDuckdb(workDir, duckdbOptions);
  try {
    const [row] = await duck.query(columnDigestQuery(digestColumns(columns), "duckdb", parquetSource(file, columns)), `read back ${file}`);
    return readColumnDigests(columns, row!);
  } finally {
    duck.close();
  }
}

/**
 * Checks that a Parquet file has exactly the manifest's columns, by position and Parquet type.
 * @throws ArchiveError naming both column lists when they differ (manifest and object of different archives).
 */
export async function assertParquetColumns(query: DuckdbSession["query"], file: string, columns: ReadonlyArray<ParquetColumn>): Promise<void> {
  const actual = (await describe(query, file)).map((c) => duckdbTypeToParquetType(c.duckdbType));
  const expected = columns.map((c) => c.parquetType);
  if (actual.length !== expected.length || actual.some((t, i) => t !== expected[i])) {
    throw new ArchiveError(
      `Parquet file ${file} does not match its manifest: file has (${actual.join(", ")}), manifest says (${expected.join(", ")}); ` +
        "check that the manifest and the data object belong to the same archive",
    );
  }
}

/** `read_parquet(file) AS t("c0", ...)`: columns by position, so any name is safe. */
function parquetSource(file: string, columns: ReadonlyArray<unknown>): string {
  return `read_parquet(${quoteLiteral(file)}) AS t(${columns.map((_, i) => quoteIdent(`c${i}`)).join(", ")})`;
}

function digestColumns(columns: ReadonlyArray<ParquetColumn>): DigestColumn[] {
  return columns.map((c, i) => ({ name: c.name, parquetType: c.parquetType, ref: `t.${quoteIdent(`c${i}`)}` }));
}

/** The columns of a Parquet file as DuckDB types, in file order. @throws ArchiveError when unreadable. */
export async function readParquetColumns(file: string, workDir = path.dirname(file)): Promise<ReadonlyArray<DescribedColumn>> {
  const duck = await openDuckdb(workDir);
  try {
    return await describe(duck.query, file);
  } finally {
    duck.close();
  }
}

/** Leaf columns of the Parquet schema with physical, converted and logical types (`parquet_schema()`). */
export async function readParquetSchema(file: string, workDir = path.dirname(file)): Promise<ReadonlyArray<ParquetSchemaEntry>> {
  const duck = await openDuckdb(workDir);
  try {
    const rows = await duck.query(
      `SELECT name, type, converted_type, logical_type FROM parquet_schema(${quoteLiteral(file)}) WHERE num_children IS NULL OR num_children = 0`,
      `read the Parquet schema of ${file}`,
    );
    return rows.map((r) => ({
      name: String(r.name),
      type: (r.type as string | null) ?? null,
      convertedType: (r.converted_type as string | null) ?? null,
      logicalType: (r.logical_type as string | null) ?? null,
    }));
  } finally {
    duck.close();
  }
}

async function describe(
  query: (statement: string, what: string) => Promise<ReadonlyArray<Record<string, unknown>>>,
  file: string,
): Promise<ReadonlyArray<DescribedColumn>> {
  const rows = await query(`DESCRIBE SELECT * FROM read_parquet(${quoteLiteral(file)})`, `open the Parquet file ${file}`);
  return rows.map((r) => ({ name: String(r.column_name), duckdbType: String(r.column_type) }));
}

/**
 * DESCRIBE prints some types in their long form; map them to the names parquet-types.ts uses
 * (`TIMESTAMP WITH TIME ZONE` -> `TIMESTAMPTZ`, `TIME` etc. unchanged).
 */
export function duckdbTypeToParquetType(duckdbType: string): string {
  if (duckdbType === "TIMESTAMP WITH TIME ZONE") return "TIMESTAMPTZ";
  return duckdbType;
}
