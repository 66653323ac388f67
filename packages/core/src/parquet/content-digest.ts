import { mapColumn } from "./parquet-types.ts";
import { quoteIdent } from "./quote.ts";

/**
 * PURE SQL generators for the content layer of archive verification (DESIGN rule 11), computed by
 * Postgres on the partition and by DuckDB on the downloaded Parquet object, compared as text:
 *
 * - `rows`, and per column the NULL count;
 * - `digest`: an order-independent digest of the rows as a restore gives them back:
 *   `sum(h(row text))` over all rows, where the row text joins the columns' canonical texts with the
 *   unit separator U+001F (`concat_ws`, NULLs left out) and `h(t)` is the first 15 hex digits
 *   (60 bits) of `md5(t)` as a non-negative bigint, summed exactly (Postgres numeric, DuckDB HUGEINT).
 *
 * One hash per row rather than per value: a changed, lost or added value changes its row's text, and
 * so the digest (up to a 60-bit collision); values moved between rows too. It costs one md5 per row
 * (about 2 s per million rows of the events shape in one Postgres backend, half that with two
 * parallel workers; per-value hashes cost three times as much). A value moved across a column
 * boundary within its row (`a|b` + `c` vs `a` + `b|c`, U+001F inside text) is the one change it
 * cannot see. When the digests differ, `columnDigestQuery` names the columns that differ.
 *
 * Each non-NULL value is rendered to one canonical text, the same in both engines:
 *
 * | Parquet type                 | canonical text                                               |
 * |------------------------------|--------------------------------------------------------------|
 * | TIMESTAMPTZ, TIMESTAMP       | epoch microseconds (`1704067200123456`), `infinity`/`-infinity` |
 * | TIME                         | microseconds since midnight                                   |
 * | DATE                         | `YYYY-MM-DD`, `infinity`/`-infinity`                          |
 * | BLOB                         | lower-case hex                                                |
 * | FLOAT, DOUBLE                | the exact double in C's `%.16e` (17 significant digits, e.g. `1.0000000000000001e-01`), `nan`, `inf`, `-inf` |
 * | BOOLEAN                      | `true` / `false` (Postgres's output function prints `t` / `f`)  |
 * | everything else              | the text itself: Postgres's output function (as COPY printed it for the export) and DuckDB's VARCHAR cast |
 *
 * The Postgres side must run under the archive COPY session settings (copy-client.ts: TimeZone UTC,
 * DateStyle ISO, IntervalStyle postgres, extra_float_digits 3, bytea_output hex), because values
 * stored as VARCHAR are the output function's text under those settings. Texts are hashed as UTF-8
 * bytes: a database in another encoding fails verification loudly rather than passing.
 */
export type Dialect = "postgres" | "duckdb";

type Canonical = "epoch-micros" | "time-micros" | "iso-date" | "hex" | "float" | "boolean" | "text";

function canonicalFor(parquetType: string): Canonical {
  if (parquetType === "TIMESTAMPTZ" || parquetType === "TIMESTAMP" || parquetType.startsWith("TIMESTAMP WITH")) return "epoch-micros";
  if (parquetType === "TIME") return "time-micros";
  if (parquetType === "DATE") return "iso-date";
  if (parquetType === "BLOB") return "hex";
  if (parquetType === "FLOAT" || parquetType === "DOUBLE") return "float";
  if (parquetType === "BOOLEAN") return "boolean";
  return "text";
}

/** The canonical text of a non-NULL value `ref` of Parquet type `parquetType` in `dialect`. */
export function canonicalText(parquetType: string, ref: string, dialect: Dialect): string {
  const canonical = canonicalFor(parquetType);
  if (dialect === "postgres") {
    switch (canonical) {
      case "epoch-micros":
        return `case when isfinite(${ref}) then trunc(extract(epoch from ${ref}) * 1000000)::text else ${ref}::text end`;
      case "time-micros":
        return `trunc(extract(epoch from ${ref}) * 1000000)::text`;
      case "iso-date":
        return `case when isfinite(${ref}) then to_char(${ref}, 'YYYY-MM-DD') else ${ref}::text end`;
      case "hex":
        return `encode(${ref}, 'hex')`;
      case "float":
        // Shortest round-trip text differs between the engines (Postgres may print 17 digits where
        // DuckDB prints 16 that round to the same double); 17 correctly rounded digits do not.
        return (
          `case when ${ref} = 'NaN' then 'nan' when ${ref} = 'Infinity' then 'inf' when ${ref} = '-Infinity' then '-inf' ` +
          `else trim(to_char(${ref}::float8, '9.9999999999999999EEEE')) end`
        );
      case "boolean":
        return `case when ${ref} then 'true' else 'false' end`;
      case "text":
        // concat() prints through the type's output function, as COPY does (`::text` would strip
        // the padding of character(n)).
        return `concat(${ref})`;
    }
  }
  switch (canonical) {
    case "epoch-micros":
      return `CASE WHEN isfinite(${ref}) THEN CAST(epoch_us(${ref}) AS VARCHAR) ELSE CAST(${ref} AS VARCHAR) END`;
    case "time-micros":
      return `CAST(epoch_us(${ref}) AS VARCHAR)`;
    case "iso-date":
      return `CASE WHEN isfinite(${ref}) THEN strftime(${ref}, '%Y-%m-%d') ELSE CAST(${ref} AS VARCHAR) END`;
    case "hex":
      return `lower(hex(${ref}))`;
    case "float":
      return (
        `CASE WHEN isnan(${ref}) THEN 'nan' WHEN isinf(${ref}) THEN (CASE WHEN ${ref} > 0 THEN 'inf' ELSE '-inf' END) ` +
        `ELSE printf('%.16e', CAST(${ref} AS DOUBLE)) END`
      );
    case "boolean":
      return `CASE WHEN ${ref} THEN 'true' ELSE 'false' END`;
    case "text":
      return `CAST(${ref} AS VARCHAR)`;
  }
}

/** One column to digest: its name, Parquet type and the SQL reference to it in the source. */
export interface DigestColumn {
  readonly name: string;
  readonly parquetType: string;
  readonly ref: string;
  /** Postgres side: the column's `format_type()` text, to pick the cheapest exact rendering. */
  readonly pgType?: string;
}

/**
 * Postgres types whose `::text` cast is their output function (an I/O conversion cast) and keeps
 * NULL: rendered without CASE and concat(), which costs about 10 % of the Postgres summary (measured).
 * Not bpchar (the cast strips padding), inet (the cast adds the netmask), bool (`true` vs `t`).
 */
const TEXT_IS_OUTPUT = /^(bigint|integer|smallint|text|uuid|jsonb?|character varying(\(\d+\))?|numeric(\(\d+(,\d+)?\))?)$/;

/** Per-column part of a content summary. */
export interface ColumnContent {
  readonly name: string;
  readonly nulls: number;
}

/** What both engines compute over one relation or Parquet object. */
export interface ContentSummary {
  readonly rows: number;
  /** Decimal text of `sum(h(row text))`; "0" for no rows. */
  readonly digest: string;
  readonly columns: ReadonlyArray<ColumnContent>;
}

/** The algorithm recorded in manifests (manifest.ts `content.algorithm`). */
export const CONTENT_DIGEST_ALGORITHM = "row-md5-60-sum/1";

const asText = (dialect: Dialect, expr: string) => (dialect === "postgres" ? `(${expr})::text` : `CAST(${expr} AS VARCHAR)`);

/** NULL stays NULL (Postgres's concat() would make it ''), so concat_ws leaves it out. */
function canonicalOrNull(c: DigestColumn, dialect: Dialect): string {
  if (dialect === "postgres" && c.pgType !== undefined && TEXT_IS_OUTPUT.test(c.pgType)) return `${c.ref}::text`;
  return `CASE WHEN ${c.ref} IS NULL THEN NULL ELSE ${canonicalText(c.parquetType, c.ref, dialect)} END`;
}

/** `sum(h(text))` as decimal text, "0" for no rows. */
function hashSum(text: string, dialect: Dialect): string {
  const md5 = `substr(md5(${text}), 1, 15)`;
  const hash = dialect === "postgres" ? `('x' || ${md5})::bit(60)::bigint` : `CAST('0x' || ${md5} AS BIGINT)`;
  return asText(dialect, `coalesce(sum(${hash}), 0)`);
}

/**
 * One argument of the row text's concat_ws. Postgres's concat_ws prints each argument through its
 * type's output function and leaves NULLs out, so a column whose canonical text is its output text is
 * passed as it is: a `::text` cast first cost about a fifth of the Postgres summary (measured).
 */
function rowTextArgument(c: DigestColumn, dialect: Dialect): string {
  if (dialect === "postgres" && canonicalFor(c.parquetType) === "text") return c.ref;
  return canonicalOrNull(c, dialect);
}

/**
 * One-scan query computing `rows`, `digest` and per column `n<i>` (NULL count), all as text, plus
 * `extra` select items over the raw columns (e.g. a key min/max). `source` is a FROM item.
 * Postgres parallelizes it (Parallel Seq Scan + Partial Aggregate) where allowed.
 */
export function contentSummaryQuery(columns: ReadonlyArray<DigestColumn>, dialect: Dialect, source: string, extra?: string): string {
  const rowText = `concat_ws(chr(31), ${columns.map((c) => rowTextArgument(c, dialect)).join(", ")})`;
  const items = [
    `${asText(dialect, "count(*)")} AS ${quoteIdent("rows")}`,
    `${hashSum(rowText, dialect)} AS ${quoteIdent("digest")}`,
    ...columns.map((c, i) => `${asText(dialect, `count(*) - count(${c.ref})`)} AS ${quoteIdent(`n${i}`)}`),
  ];
  if (extra) items.push(extra);
  return `SELECT ${items.join(", ")} FROM ${source}`;
}

/**
 * Per-column digests `d<i>` (`sum(h(canonical text))` over non-NULL values): run only after the row
 * digests differed, to name the columns whose values differ (one md5 per value: slower).
 */
export function columnDigestQuery(columns: ReadonlyArray<DigestColumn>, dialect: Dialect, source: string): string {
  return `SELECT ${columns.map((c, i) => `${hashSum(canonicalOrNull(c, dialect), dialect)} AS ${quoteIdent(`d${i}`)}`).join(", ")} FROM ${source}`;
}

/** The digest columns of a Postgres relation's columns (`format_type()` text), by quoted name. */
export function postgresDigestColumns(columns: ReadonlyArray<{ readonly name: string; readonly type: string }>): DigestColumn[] {
  return columns.map((c) => ({ name: c.name, parquetType: mapColumn(c).parquetType, ref: quoteIdent(c.name), pgType: c.type }));
}

/** Reads a `contentSummaryQuery` result row. */
export function readContentSummary(columns: ReadonlyArray<{ readonly name: string }>, row: Readonly<Record<string, unknown>>): ContentSummary {
  return Object.freeze({
    rows: Number(row.rows),
    digest: String(row.digest),
    columns: columns.map((c, i) => Object.freeze({ name: c.name, nulls: Number(row[`n${i}`]) })),
  });
}

/** Reads a `columnDigestQuery` result row: one digest per column, in order. */
export function readColumnDigests(columns: ReadonlyArray<unknown>, row: Readonly<Record<string, unknown>>): string[] {
  return columns.map((_, i) => String(row[`d${i}`]));
}

/**
 * What differs between an expected summary and an actual one, for an error message; empty when they
 * agree. Names each column whose NULL count differs. Default labels: the table (expected) and the
 * archive (actual), as archive verification compares them.
 */
export function contentDifferences(
  expected: ContentSummary,
  actual: ContentSummary,
  labels: { readonly expected: string; readonly actual: string } = { expected: "in the table", actual: "in the archive" },
): string[] {
  const { expected: e, actual: a } = labels;
  const differences: string[] = [];
  if (actual.rows !== expected.rows) differences.push(`${actual.rows} rows ${a} vs ${expected.rows} ${e}`);
  if (actual.columns.length !== expected.columns.length) {
    differences.push(`${actual.columns.length} columns ${a} vs ${expected.columns.length} ${e}`);
  }
  for (const [i, x] of expected.columns.entries()) {
    const y = actual.columns[i];
    if (y && y.nulls !== x.nulls) differences.push(`column ${JSON.stringify(x.name)}: ${y.nulls} NULLs ${a} vs ${x.nulls} ${e}`);
  }
  if (actual.digest !== expected.digest) {
    differences.push(`row digest ${actual.digest} ${a} vs ${expected.digest} ${e} (values differ)`);
  }
  return differences;
}
