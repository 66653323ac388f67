import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ArchiveError } from "../errors.ts";
import { displayName, type QualifiedName } from "../identifier.ts";
import { withCopyClient, type OpenCopyClient } from "./copy-client.ts";
import { openDuckdb } from "./duckdb-session.ts";
import { createNamedPipe, settleNamedPipe } from "./named-pipe.ts";
import { restoreExpression, type ParquetColumn } from "./parquet-types.ts";
import { quoteIdent, quoteLiteral, quoteQualified } from "./quote.ts";
import { assertParquetColumns } from "./read-parquet.ts";

export interface LoadParquetOptions {
  /** A NEW postgres.js client with `max: 1` for the COPY; ended here (see copy-client.ts). */
  readonly openCopyClient: OpenCopyClient;
  /** A Parquet file written by `exportToParquet`. */
  readonly file: string;
  /** Existing table receiving the rows (must have every manifest column, by name). */
  readonly target: QualifiedName;
  /** The manifest's columns, in file order. */
  readonly columns: ReadonlyArray<ParquetColumn>;
  /**
   * Names of manifest columns that are generated in the target: checked against the file like the
   * others but left out of the CSV and the COPY, so Postgres computes them (a COPY naming a generated
   * column fails). Default none.
   */
  readonly generated?: ReadonlyArray<string>;
  /** Writable scratch directory for the named pipe and DuckDB's spill. */
  readonly workDir: string;
  /** Memory of the process, MB (see duckdb-session.ts). Default: DuckDB's default memory limit. */
  readonly memoryMb?: number | undefined;
}

export interface LoadParquetResult {
  /** Rows copied into the target. */
  readonly rows: number;
}

/**
 * Restore primitive: loads one archive Parquet file into `target`, streaming (no staging file).
 *
 * 1. DuckDB checks the file's columns against the manifest (same count and Parquet types), then writes
 *    `COPY (SELECT <restore expressions> FROM read_parquet(file)) TO '<random>.csv' (FORMAT csv,
 *    FORCE_QUOTE *)` into a named pipe: every non-NULL value quoted, NULL an unquoted empty field
 *    (Postgres CSV's rule), each value in a text form the column's input function reads
 *    (parquet-types.ts `restoreExpression`). Generated columns of the target are left out of the CSV
 *    (Postgres computes them).
 * 2. At the same time `COPY "schema"."target" ("c1", ...) FROM STDIN (FORMAT csv)` naming the CSV's
 *    columns reads the pipe, on its own client with the archive session settings (copy-client.ts);
 *    the client is ended afterwards. The COPY is finished only once DuckDB has succeeded: the end of
 *    the pipe alone cannot tell a complete CSV from one DuckDB stopped writing, so a DuckDB failure
 *    fails the COPY (CopyFail) instead of committing the rows that came before it.
 * 3. The pipe is removed on every path.
 *
 * Runs in the COPY's own implicit transaction: a failure loads nothing.
 * @throws ArchiveError naming file and target when the file does not match the manifest, DuckDB cannot
 *   read it, or Postgres rejects a value.
 */
export async function loadParquet(options: LoadParquetOptions): Promise<LoadParquetResult> {
  const { file, target, columns, workDir } = options;
  if (columns.length === 0) throw new ArchiveError(`cannot load ${file} into ${displayName(target)}: the manifest lists no columns`);
  const loaded = columns.map((c, i) => ({ c, i })).filter(({ c }) => !options.generated?.includes(c.name));
  const pipe = path.resolve(workDir, `restore-${randomUUID()}.csv`);
  const duck = await openDuckdb(workDir, { memoryMb: options.memoryMb });
  try {
    await assertParquetColumns(duck.query, file, columns);
    await createNamedPipe(pipe);
    const alias = columns.map((_, i) => quoteIdent(`c${i}`)).join(", ");
    const select = loaded.map(({ c, i }) => `${restoreExpression(c.parquetType, `t.${quoteIdent(`c${i}`)}`)} AS ${quoteIdent(`c${i}`)}`).join(", ");
    const converting = duck.query(
      `COPY (SELECT ${select} FROM read_parquet(${quoteLiteral(file)}) AS t(${alias})) TO ${quoteLiteral(pipe)} ` +
        `(FORMAT csv, HEADER false, DELIMITER ',', QUOTE '"', ESCAPE '"', NULLSTR '', FORCE_QUOTE *)`,
      `convert ${file} to CSV for restore`,
    );
    const copy = `copy ${quoteQualified(target)} (${loaded.map(({ c }) => quoteIdent(c.name)).join(", ")}) from stdin (format csv)`;
    const untilConverted = new Transform({
      transform: (chunk: Buffer, _encoding, done) => done(null, chunk),
      flush: (done) => void converting.then(() => done(), done),
    });
    const loading = withCopyClient(options.openCopyClient, async (sql) => {
      await pipeline(createReadStream(pipe), untilConverted, await sql.unsafe(copy).writable());
    });
    const [converted, copied] = await settleNamedPipe(pipe, converting, loading);
    // DuckDB's failure reaches the COPY through untilConverted; any other COPY failure (Postgres
    // rejected a value) is the root cause, and DuckDB's broken pipe its consequence.
    if (copied.status === "rejected" && !(converted.status === "rejected" && copied.reason === converted.reason)) {
      const error = copied.reason as Error;
      throw new ArchiveError(`COPY into ${displayName(target)} from ${file} failed: ${error.message}`, { cause: error });
    }
    if (converted.status === "rejected") throw converted.reason;
    return Object.freeze({ rows: Number(converted.value[0]?.Count ?? Number.NaN) });
  } finally {
    duck.close();
    await rm(pipe, { force: true });
  }
}
