/**
 * Parquet format versions an archive can be written in (config `archive.parquetVersion`); the
 * COPY option is written by export-parquet.ts `parquetCopyOptions`. DuckDB reads both versions, so
 * verification and restore are the same for either.
 * `v1` (default, as DuckDB's own default): PLAIN/dictionary encodings and data page v1, which every
 * Parquet reader handles. `v2`: DuckDB's `PARQUET_VERSION v2` (DELTA_BINARY_PACKED,
 * DELTA_LENGTH_BYTE_ARRAY, BYTE_STREAM_SPLIT, data page v2): measured 0.63x / 0.58x of pg_dump -Fc
 * against v1's 0.68x / 0.71x (1 M rows of the event shape, random / time-ordered timestamps,
 * bench/parquet-size.ts), but older readers (old pandas/pyarrow, some engines) cannot read it
 * (DuckDB's blog "Query Engines: Gatekeepers of the Parquet File Format", 2025-01-22).
 */
export const PARQUET_VERSIONS = ["v1", "v2"] as const;
export type ParquetVersion = (typeof PARQUET_VERSIONS)[number];

/** How a plan names the format: `Parquet` (v1, the default) or `Parquet v2`. */
export const parquetLabel = (version: ParquetVersion | undefined): string => (version === "v2" ? "Parquet v2" : "Parquet");
