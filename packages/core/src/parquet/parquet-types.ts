import type { ColumnInfo } from "../catalog/types.ts";

/**
 * PURE mapping from a Postgres column type (as `format_type()` prints it) to how partkeeper stores it
 * in Parquet, so that every value survives the round trip Postgres -> CSV -> DuckDB -> Parquet ->
 * DuckDB -> CSV -> Postgres (DESIGN rule 8). No I/O here; the SQL fragments are unit-tested.
 *
 * | Postgres                                   | Parquet (DuckDB type)                  |
 * |--------------------------------------------|----------------------------------------|
 * | smallint, integer, bigint                  | SMALLINT, INTEGER, BIGINT              |
 * | numeric(p,s), 1 <= p <= 38, 0 <= s <= p     | DECIMAL(p,s) (exact)                   |
 * | numeric, other numeric(p,s)                | VARCHAR: Postgres text, never a float  |
 * | real, double precision                     | FLOAT, DOUBLE (exported with extra_float_digits = 3: exact) |
 * | boolean                                    | BOOLEAN                                |
 * | uuid                                       | UUID                                   |
 * | timestamp[(n)] with time zone              | TIMESTAMPTZ (Parquet TIMESTAMP isAdjustedToUTC, MICROS) |
 * | timestamp[(n)] without time zone           | TIMESTAMP (isAdjustedToUTC = false, MICROS) |
 * | date                                       | DATE                                   |
 * | time[(n)] without time zone                | TIME                                   |
 * | text, character varying[(n)], character[(n)] | VARCHAR                              |
 * | json, jsonb                                | JSON (text kept byte for byte)         |
 * | bytea                                      | BLOB (exported as hex, `from_hex`)     |
 * | arrays, enums, domains, interval, inet, timetz, anything else | VARCHAR holding Postgres's own text form; restore parses it with the column's input function |
 *
 * Export session settings assumed by these expressions: TimeZone = 'UTC', DateStyle = 'ISO, MDY',
 * IntervalStyle = 'postgres', extra_float_digits = 3, bytea_output = 'hex' (see export-parquet.ts).
 * Known limits: years BC (Postgres prints `... BC`, DuckDB rejects it) and NaN in a constrained
 * numeric(p,s) (DECIMAL has no NaN) make the export fail with an error instead of a wrong value.
 */
export interface ColumnMapping {
  readonly name: string;
  /** `format_type()` text, recorded in the manifest as `pgType`. */
  readonly pgType: string;
  /** DuckDB type of the Parquet column, recorded in the manifest as `parquetType`, e.g. `DECIMAL(12,2)`. */
  readonly parquetType: string;
  /** DuckDB type `read_csv` parses the exported CSV field as. */
  readonly csvType: string;
  /** Postgres SELECT expression for the export, given the quoted column name. */
  exportExpression(quotedColumn: string): string;
  /** DuckDB expression turning the CSV field (read as `csvType`) into the Parquet value. */
  toParquet(ref: string): string;
}

/** DuckDB DECIMAL holds at most 38 digits (DuckDB docs, "Fixed-Point Decimals"). */
export const MAX_DECIMAL_PRECISION = 38;

const INTEGERS: Readonly<Record<string, string>> = { smallint: "SMALLINT", integer: "INTEGER", bigint: "BIGINT" };
const FLOATS: Readonly<Record<string, string>> = { real: "FLOAT", "double precision": "DOUBLE" };

const same = (ref: string): string => ref;
const plain = (quotedColumn: string): string => quotedColumn;

function mapping(column: ColumnInfo, parquetType: string, more: Partial<Pick<ColumnMapping, "csvType" | "exportExpression" | "toParquet">> = {}): ColumnMapping {
  return Object.freeze({
    name: column.name,
    pgType: column.type,
    parquetType,
    csvType: more.csvType ?? parquetType,
    exportExpression: more.exportExpression ?? plain,
    toParquet: more.toParquet ?? same,
  });
}

/** One column of a Parquet object: its name, Postgres `format_type()` text and DuckDB type (what a manifest records per column). */
export interface ParquetColumn {
  readonly name: string;
  readonly pgType: string;
  readonly parquetType: string;
}

/** The Parquet column an export writes for a Postgres column. */
export function parquetColumn(column: ColumnInfo): ParquetColumn {
  const m = mapColumn(column);
  return Object.freeze({ name: m.name, pgType: m.pgType, parquetType: m.parquetType });
}

/** The Parquet type and SQL fragments for one column. Never throws: unknown types become VARCHAR. */
export function mapColumn(column: ColumnInfo): ColumnMapping {
  const type = column.type;
  const integer = INTEGERS[type];
  if (integer) return mapping(column, integer);
  const float = FLOATS[type];
  if (float) return mapping(column, float);
  const numeric = /^numeric\((-?\d+)(?:,(-?\d+))?\)$/.exec(type);
  if (numeric) {
    const precision = Number(numeric[1]);
    const scale = Number(numeric[2] ?? 0);
    if (precision >= 1 && precision <= MAX_DECIMAL_PRECISION && scale >= 0 && scale <= precision) {
      return mapping(column, `DECIMAL(${precision},${scale})`);
    }
    return mapping(column, "VARCHAR");
  }
  if (type === "boolean") return mapping(column, "BOOLEAN");
  if (type === "uuid") return mapping(column, "UUID");
  if (/^timestamp(\(\d+\))? with time zone$/.test(type)) return mapping(column, "TIMESTAMPTZ");
  if (/^timestamp(\(\d+\))? without time zone$/.test(type)) return mapping(column, "TIMESTAMP");
  if (type === "date") return mapping(column, "DATE");
  if (/^time(\(\d+\))? without time zone$/.test(type)) return mapping(column, "TIME");
  if (type === "json" || type === "jsonb") return mapping(column, "JSON");
  if (type === "bytea") {
    return mapping(column, "BLOB", {
      csvType: "VARCHAR",
      exportExpression: (c) => `encode(${c}, 'hex')`,
      toParquet: (ref) => `from_hex(${ref})`,
    });
  }
  // text, character varying(n), character(n), numeric beyond DECIMAL, arrays, enums, domains,
  // interval, inet, timetz, ...: Postgres's own text form (COPY csv output), parsed back on restore.
  return mapping(column, "VARCHAR");
}

/**
 * DuckDB expression rendering a Parquet value as text that Postgres's input function for the
 * original column type accepts, for `COPY ... FROM STDIN (FORMAT csv)` on restore. Depends only on
 * the Parquet type recorded in the manifest, so archives stay restorable if `mapColumn` changes.
 * Assumes DuckDB's TimeZone is 'UTC' (TIMESTAMPTZ prints as `2024-01-01 00:00:00.123456+00`).
 * Floats print as the shortest exact text; `inf`, `-inf`, `nan` are accepted by Postgres 12+.
 */
export function restoreExpression(parquetType: string, ref: string): string {
  if (parquetType === "BLOB") return `'\\x' || hex(${ref})`;
  if (parquetType === "VARCHAR") return ref;
  return `CAST(${ref} AS VARCHAR)`;
}

/**
 * How a partition key's min/max is rendered so that the Postgres side (partition-summary.ts) and the
 * Parquet side (read-parquet.ts) compare as equal strings:
 * timestamps as epoch microseconds (`1704067200123456`; `infinity`/`-infinity` as such), bytea as lower-case hex, dates as
 * `YYYY-MM-DD`, booleans as `true`/`false`, everything else as text. Values stored as VARCHAR/JSON are ordered by their text
 * under byte order (Postgres `COLLATE "C"`), the order DuckDB uses for strings.
 */
export type KeyRendering = "epoch-micros" | "hex" | "iso-date" | "boolean" | "text" | "text-bytes";

/** The rendering for a Parquet (DuckDB) type. */
export function keyRendering(parquetType: string): KeyRendering {
  if (parquetType === "TIMESTAMPTZ" || parquetType === "TIMESTAMP" || parquetType.startsWith("TIMESTAMP WITH")) return "epoch-micros";
  if (parquetType === "BLOB") return "hex";
  if (parquetType === "DATE") return "iso-date";
  if (parquetType === "BOOLEAN") return "boolean";
  // UUID too: Postgres has no min(uuid) before 18, and its text order is its byte order.
  if (parquetType === "VARCHAR" || parquetType === "JSON" || parquetType === "UUID") return "text-bytes";
  return "text";
}

/** Postgres SELECT list computing `key_min`, `key_max` (both text) for `quotedColumn` of a column of `pgType`. */
export function postgresKeySummary(pgType: string, quotedColumn: string): string {
  const rendering = keyRendering(mapColumn({ name: "", type: pgType }).parquetType);
  const render = (agg: string): string => {
    switch (rendering) {
      case "epoch-micros":
        return `case when isfinite(${agg}) then trunc(extract(epoch from ${agg}) * 1000000)::text else ${agg}::text end`;
      case "hex":
        return agg; // already hex text, see `input`
      case "iso-date":
        return `case when isfinite(${agg}) then to_char(${agg}, 'YYYY-MM-DD') else ${agg}::text end`;
      case "boolean":
        return `(${agg})::boolean::text`;
      case "text":
      case "text-bytes":
        return `${agg}::text`;
      default: {
        const never: never = rendering;
        return never;
      }
    }
  };
  // min/max(bytea) exist only from PostgreSQL 18; lower-case hex text sorts like the bytes under "C".
  const input =
    rendering === "text-bytes"
      ? `(${quotedColumn}::text COLLATE "C")`
      : rendering === "hex"
        ? `(encode(${quotedColumn}, 'hex') COLLATE "C")`
        : rendering === "boolean"
          ? `${quotedColumn}::int`
          : quotedColumn;
  return `${render(`min(${input})`)} as key_min, ${render(`max(${input})`)} as key_max`;
}

/** DuckDB SELECT list computing `key_min`, `key_max` (both VARCHAR) for `ref` of Parquet type `parquetType`. */
export function duckdbKeySummary(parquetType: string, ref: string): string {
  const rendering = keyRendering(parquetType);
  const render = (agg: string): string => {
    switch (rendering) {
      case "epoch-micros":
        return `CASE WHEN isfinite(${agg}) THEN CAST(epoch_us(${agg}) AS VARCHAR) ELSE CAST(${agg} AS VARCHAR) END`;
      case "hex":
        return `lower(hex(${agg}))`;
      case "iso-date":
        return `CASE WHEN isfinite(${agg}) THEN strftime(${agg}, '%Y-%m-%d') ELSE CAST(${agg} AS VARCHAR) END`;
      case "boolean":
      case "text":
      case "text-bytes":
        return `CAST(${agg} AS VARCHAR)`;
      default: {
        const never: never = rendering;
        return never;
      }
    }
  };
  const input = rendering === "text-bytes" ? `CAST(${ref} AS VARCHAR)` : ref;
  return `${render(`min(${input})`)} AS key_min, ${render(`max(${input})`)} AS key_max`;
}
