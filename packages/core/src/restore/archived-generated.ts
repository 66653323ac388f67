import type { ManifestColumn } from "../archive/manifest.ts";
import { openDuckdb, type DuckdbSession } from "../parquet/duckdb-session.ts";
import { duckdbKeySummary, keyRendering } from "../parquet/parquet-types.ts";
import { quoteIdent, quoteLiteral } from "../parquet/quote.ts";

/** Non-NULL count and min/max of one column, rendered as archive verification renders key columns. */
export interface ColumnFingerprint {
  readonly nonNull: string;
  readonly min: string | null;
  readonly max: string | null;
}

/**
 * The archived values of the target's generated columns, summed up object by object, so a restore
 * can delete each object once it is loaded (restore-partition.ts loads one at a time) and still
 * compare the generated columns Postgres computed with all archived values (`checkGenerated`).
 *
 * Each `add(file)` reads only those columns of the file (DuckDB is columnar) and keeps per column one
 * row `(non-NULL count, min, max)` in a DuckDB table; `fingerprints()` sums the counts and takes the
 * min and max over the kept mins and maxes, then renders them with parquet-types.ts
 * `duckdbKeySummary`, so the result equals one summary over every file at once. Strings compared by
 * their bytes (`text-bytes`) are kept as VARCHAR, the form that summary orders them in.
 */
export class ArchivedGeneratedSummary {
  private files = 0;

  private constructor(
    private readonly duck: DuckdbSession,
    private readonly columns: ReadonlyArray<ManifestColumn>,
    private readonly generated: ReadonlyArray<ManifestColumn>,
  ) {}

  /** A summary of `generated` (manifest columns, in file order `columns`); null when there are none. `memoryMb`: the process's, as for loadParquet. */
  static async open(
    workDir: string,
    memoryMb: number | undefined,
    columns: ReadonlyArray<ManifestColumn>,
    generated: ReadonlyArray<ManifestColumn>,
  ): Promise<ArchivedGeneratedSummary | null> {
    if (generated.length === 0) return null;
    // Open while each object's load runs its own DuckDB: a quarter of the memory base, since it only
    // keeps a row per object and column (DuckDB's memory_limit is a share of it, duckdb-session.ts).
    const duck = await openDuckdb(workDir, { memoryMb: memoryMb === undefined ? undefined : Math.floor(memoryMb / 4) });
    return new ArchivedGeneratedSummary(duck, columns, generated);
  }

  /** Adds one Parquet object's values (before it is deleted). */
  async add(file: string): Promise<void> {
    const alias = this.columns.map((_, i) => quoteIdent(`c${i}`)).join(", ");
    const source = `read_parquet(${quoteLiteral(file)}) AS t(${alias})`;
    for (const [k, column] of this.generated.entries()) {
      const ref = `t.${quoteIdent(`c${this.columns.indexOf(column)}`)}`;
      const input = keyRendering(column.parquetType) === "text-bytes" ? `CAST(${ref} AS VARCHAR)` : ref;
      const select = `SELECT count(${ref}) AS n, min(${input}) AS lo, max(${input}) AS hi FROM ${source}`;
      await this.duck.query(this.files === 0 ? `CREATE TABLE ${quoteIdent(`g${k}`)} AS ${select}` : `INSERT INTO ${quoteIdent(`g${k}`)} ${select}`, `summarize generated column ${column.name} of ${file}`);
    }
    this.files++;
  }

  /** Per generated column (by name), the fingerprint over every file added. */
  async fingerprints(): Promise<Map<string, ColumnFingerprint>> {
    const result = new Map<string, ColumnFingerprint>();
    for (const [k, column] of this.generated.entries()) {
      if (this.files === 0) {
        result.set(column.name, { nonNull: "0", min: null, max: null });
        continue;
      }
      const table = quoteIdent(`g${k}`);
      const [row] = await this.duck.query(
        `SELECT (SELECT CAST(coalesce(sum(n), 0) AS VARCHAR) FROM ${table}) AS non_null, ${duckdbKeySummary(column.parquetType, "v")} ` +
          `FROM (SELECT lo AS v FROM ${table} UNION ALL SELECT hi AS v FROM ${table})`,
        `summarize generated column ${column.name} of the archive`,
      );
      result.set(column.name, { nonNull: String(row?.non_null), min: (row?.key_min as string | null) ?? null, max: (row?.key_max as string | null) ?? null });
    }
    return result;
  }

  close(): void {
    this.duck.close();
  }
}
