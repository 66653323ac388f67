import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ColumnInfo } from "../catalog/types.ts";
import { ArchiveError } from "../errors.ts";
import { displayName, type QualifiedName } from "../identifier.ts";
import { withCopyClient, type OpenCopyClient } from "./copy-client.ts";
import { duckdbMemoryLimitBytes, openDuckdb } from "./duckdb-session.ts";
import { createNamedPipe, settleNamedPipe } from "./named-pipe.ts";
import type { ParquetVersion } from "./parquet-version.ts";
import { mapColumn, parquetColumn, type ColumnMapping, type ParquetColumn } from "./parquet-types.ts";
import { quoteIdent, quoteLiteral } from "./quote.ts";
import { sha256File } from "./read-parquet.ts";
import { relationSource, type PageRange } from "./relation-summary.ts";

/** DuckDB's default row group size (rows); about 1 MB-10 MB per group for typical partitions. */
export const DEFAULT_ROW_GROUP_ROWS = 122_880;

/**
 * ZSTD level of archives: 1, not DuckDB's default 3. Measured on 1 M rows of the demo's event shape
 * (bench/parquet-size.ts, docs/figures.md "Archive size"): level 1 writes 7 % smaller files with
 * random timestamps (45.9 vs 49.5 MB) and 1 % smaller in time order, in less time; level 9 is no
 * smaller, level 19 reaches 0.6x of pg_dump -Fc at 140x the write time.
 */
export const ZSTD_LEVEL = 1;

/**
 * The options of DuckDB's `COPY ... TO 'file' (...)` for an archive, e.g.
 * `FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 122880` (v1: DuckDB's default,
 * so no PARQUET_VERSION option) or `..., PARQUET_VERSION v2`.
 */
export function parquetCopyOptions(rowGroupRows: number, parquetVersion: ParquetVersion): string {
  const options = ["FORMAT parquet", "COMPRESSION zstd", `COMPRESSION_LEVEL ${ZSTD_LEVEL}`, `ROW_GROUP_SIZE ${rowGroupRows}`];
  if (parquetVersion === "v2") options.push("PARQUET_VERSION v2");
  return options.join(", ");
}

const MiB = 1024 * 1024;

/**
 * Largest CSV line (one row, bytes) DuckDB reads for a DuckDB memory limit of `memoryLimitBytes`
 * (null: DuckDB's default): 1/64 of it as a power of two, between 4 MiB and 256 MiB (16 MiB for a
 * 2048 MB Lambda). DuckDB's CSV reader allocates `buffer_size` per read buffer, by default
 * 16 x max_line_size: 4 GiB for 256 MiB, which fails under any memory_limit up to 4 GB
 * (PLATFORM-NOTES), so the export passes `buffer_size` = 2 x max_line_size (it must be larger).
 * A row with a longer CSV line fails the export with DuckDB's "maximum line size" error.
 */
export function maxLineBytes(memoryLimitBytes: number | null): number {
  if (memoryLimitBytes === null) return 256 * MiB;
  let bytes = 4 * MiB;
  while (bytes * 2 <= Math.min(256 * MiB, memoryLimitBytes / 64)) bytes *= 2;
  return bytes;
}

export interface ExportToParquetOptions {
  /** A NEW postgres.js client with `max: 1` for the COPY; ended here (see copy-client.ts). */
  readonly openCopyClient: OpenCopyClient;
  /** The table or (detached) partition to export. */
  readonly relation: QualifiedName;
  /** Only the rows on these heap pages (one part of an archive in several parts). Default: every row. */
  readonly pages?: PageRange | undefined;
  /** Columns in table order, as the catalog reads them (`format_type()` text). */
  readonly columns: ReadonlyArray<ColumnInfo>;
  /** A writable scratch directory (Lambda: under /tmp); needs room for the Parquet file and DuckDB's spill. */
  readonly workDir: string;
  /** Name of the Parquet file inside workDir. Default `data.parquet`. */
  readonly fileName?: string;
  /** Rows per Parquet row group. Default 122880. */
  readonly rowGroupRows?: number;
  /** Memory of the process, MB (see duckdb-session.ts). Default: DuckDB's default memory limit. */
  readonly memoryMb?: number | undefined;
  /** Parquet format version of the file (see PARQUET_VERSIONS). Default `v1`. */
  readonly parquetVersion?: ParquetVersion | undefined;
}

export interface ExportToParquetResult {
  /** Absolute path of the ZSTD Parquet file, left in workDir for upload. */
  readonly file: string;
  readonly rows: number;
  /** Size of the Parquet file, bytes. */
  readonly bytes: number;
  /** SHA-256 of the Parquet file, lower-case hex. */
  readonly sha256: string;
  /** Bytes of CSV the COPY streamed to DuckDB (never stored). */
  readonly csvBytes: number;
  readonly columns: ReadonlyArray<ParquetColumn>;
}

/**
 * Exports a relation to one ZSTD Parquet file with the types of parquet-types.ts (DESIGN rule 8),
 * streaming: no staging file, so temporary disk is the Parquet file (plus DuckDB's spill, bounded
 * by its memory_limit) whatever the relation's size.
 *
 * 1. `COPY (SELECT <export expressions> FROM "schema"."name" [WHERE <page range>]) TO STDOUT (FORMAT csv)` on its own
 *    client (TimeZone UTC etc., see copy-client.ts), written into a named pipe `<workDir>/<random>.csv`;
 * 2. at the same time DuckDB reads the pipe with explicit column types (NULL = unquoted empty field,
 *    `""` = empty string: `allow_quoted_nulls = false`) and writes `COPY ... TO 'file' (FORMAT
 *    parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE n[, PARQUET_VERSION v2])`;
 * 3. the pipe is removed (on every path); the Parquet file stays.
 *
 * The relation is read as of the COPY's snapshot; archive it after it was detached so it cannot change.
 * @throws ArchiveError naming the relation when the COPY, DuckDB's parse or the write fails (a
 *   failed COPY is reported as such even when DuckDB wrote what it received), or when two column
 *   names differ only in case (DuckDB identifiers are case-insensitive).
 */
export async function exportToParquet(options: ExportToParquetOptions): Promise<ExportToParquetResult> {
  const { relation, workDir } = options;
  if (options.columns.length === 0) throw new ArchiveError(`cannot export ${displayName(relation)}: no columns given`);
  const mappings = options.columns.map(mapColumn);
  assertDistinctForDuckdb(relation, mappings);
  const file = path.resolve(workDir, options.fileName ?? "data.parquet");
  const pipe = path.resolve(workDir, `export-${randomUUID()}.csv`);
  const maxLine = maxLineBytes(duckdbMemoryLimitBytes(options.memoryMb));
  const duck = await openDuckdb(workDir, { memoryMb: options.memoryMb });
  try {
    await createNamedPipe(pipe);
    const copy =
      `copy (select ${mappings.map((m) => m.exportExpression(quoteIdent(m.name))).join(", ")} ` +
      `from ${relationSource(relation, options.pages)}) to stdout (format csv)`;
    let csvBytes = 0;
    const streaming = withCopyClient(options.openCopyClient, async (sql) => {
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          csvBytes += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(await sql.unsafe(copy).readable(), counter, createWriteStream(pipe));
    });
    const csvColumns = mappings.map((m, i) => `${quoteLiteral(`c${i}`)}: ${quoteLiteral(m.csvType)}`).join(", ");
    const source =
      `read_csv(${quoteLiteral(pipe)}, columns = {${csvColumns}}, header = false, auto_detect = false, ` +
      `delim = ',', quote = '"', escape = '"', nullstr = '', allow_quoted_nulls = false, new_line = '\\n', ` +
      `strict_mode = true, max_line_size = ${maxLine}, buffer_size = ${2 * maxLine})`;
    const select = mappings.map((m, i) => `${m.toParquet(quoteIdent(`c${i}`))} AS ${quoteIdent(m.name)}`).join(", ");
    const converting = duck.query(
      `COPY (SELECT ${select} FROM ${source}) TO ${quoteLiteral(file)} ` +
        `(${parquetCopyOptions(options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS, options.parquetVersion ?? "v1")})`,
      `convert the CSV export of ${displayName(relation)} to Parquet`,
    );
    const [copied, converted] = await settleNamedPipe(pipe, streaming, converting);
    // The root cause first: a COPY that failed on its own (not because DuckDB stopped reading) ends
    // the CSV early, so whatever DuckDB made of it is incomplete.
    if (copied.status === "rejected" && !(converted.status === "rejected" && isBrokenPipe(copied.reason))) {
      const error = copied.reason as Error;
      throw new ArchiveError(`COPY of ${displayName(relation)} to DuckDB failed: ${error.message}`, { cause: error });
    }
    if (converted.status === "rejected") throw lineTooLong(relation, maxLine, converted.reason as Error) ?? converted.reason;
    const rows = Number(converted.value[0]?.Count ?? Number.NaN);
    if (!Number.isSafeInteger(rows)) throw new ArchiveError(`DuckDB did not report a row count for ${file}`);
    const bytes = (await stat(file)).size;
    const sha256 = await sha256File(file);
    return Object.freeze({ file, rows, bytes, sha256, csvBytes, columns: options.columns.map(parquetColumn) });
  } finally {
    duck.close();
    await rm(pipe, { force: true });
  }
}

const isBrokenPipe = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code === "EPIPE";

/** DuckDB's "maximum line size" error as advice to the operator; null for any other error. */
function lineTooLong(relation: QualifiedName, maxLine: number, error: Error): ArchiveError | null {
  if (!/maximum line size/i.test(error.message)) return null;
  return new ArchiveError(
    `${displayName(relation)} has a row longer than ${maxLine / MiB} MiB as CSV, the most DuckDB may read with its memory limit: ` +
      "give the archive function more memory (each doubling of memory doubles the limit, up to 256 MiB)",
    { cause: error },
  );
}

/** DuckDB binds names case-insensitively: `"A"` and `"a"` would collide in the Parquet file. */
function assertDistinctForDuckdb(relation: QualifiedName, mappings: ReadonlyArray<ColumnMapping>): void {
  const seen = new Map<string, string>();
  for (const m of mappings) {
    const folded = m.name.toLowerCase();
    const other = seen.get(folded);
    if (other !== undefined) {
      throw new ArchiveError(
        `cannot archive ${displayName(relation)}: columns ${JSON.stringify(other)} and ${JSON.stringify(m.name)} differ only in case, ` +
          "which Parquet readers such as DuckDB cannot tell apart; rename one of them",
      );
    }
    seen.set(folded, m.name);
  }
}
