import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ArchiveError } from "../errors.ts";
import { displayName, type QualifiedName } from "../identifier.ts";
import { withCopyClient, type OpenCopyClient } from "./copy-client.ts";
import { openDuckdb, type DuckdbSession } from "./duckdb-session.ts";
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
  /** Memory of the process, MB (see duckdb-session.ts), shared by the streams. Default: DuckDB's default memory limit. */
  readonly memoryMb?: number | undefined;
  /**
   * Parallel streams: the file's rows are split into this many ranges of `file_row_number`, each
   * converted by its own DuckDB and copied by its own COPY on its own client, at the same time.
   * Postgres parsing the CSV is the slow half (one backend, one core: DuckDB converts 1 M rows in
   * about 0.7 s, `COPY FROM (FORMAT csv)` takes about 3.5 s; two streams copied them in about 2 s on
   * a 2-core server, docs/figures.md), so two streams use a second core of the database server.
   * Default 1.
   */
  readonly streams?: number;
}

export interface LoadParquetResult {
  /** Rows copied into the target. */
  readonly rows: number;
}

/**
 * Restore primitive: loads one archive Parquet file into `target`, streaming (no staging file).
 *
 * 1. DuckDB checks the file's columns against the manifest (same count and Parquet types). Then, per
 *    stream (`streams`, default 1; each a range of the file's rows by `file_row_number`), a DuckDB of
 *    its own writes `COPY (SELECT <restore expressions> FROM read_parquet(file) [WHERE file_row_number
 *    in the range]) TO '<random>.csv' (FORMAT csv, FORCE_QUOTE *)` into a named pipe: every non-NULL
 *    value quoted, NULL an unquoted empty field (Postgres CSV's rule), each value in a text form the
 *    column's input function reads (parquet-types.ts `restoreExpression`). Generated columns of the
 *    target are left out of the CSV (Postgres computes them).
 * 2. At the same time `COPY "schema"."target" ("c1", ...) FROM STDIN (FORMAT csv)` naming the CSV's
 *    columns reads each pipe, on its own client with the archive session settings (copy-client.ts);
 *    the client is ended afterwards. Each COPY is finished only once every stream's DuckDB has
 *    succeeded: the end of a pipe alone cannot tell a complete CSV from one DuckDB stopped writing,
 *    so a DuckDB failure fails every COPY (CopyFail) instead of committing the rows before it.
 * 3. The pipes are removed on every path.
 *
 * Each COPY runs in its own transaction: a DuckDB failure loads nothing. With several streams, a
 * value Postgres rejects fails its own COPY and, through the broken pipe and the shared gate, the
 * others while they are still open; one that had already finished keeps its rows (the caller treats
 * any failure as a load that left the target for inspection, as after an earlier object's rows).
 * @throws ArchiveError naming file and target when the file does not match the manifest, DuckDB cannot
 *   read it, or Postgres rejects a value.
 */
export async function loadParquet(options: LoadParquetOptions): Promise<LoadParquetResult> {
  const { file, target, columns, workDir } = options;
  if (columns.length === 0) throw new ArchiveError(`cannot load ${file} into ${displayName(target)}: the manifest lists no columns`);
  const streams = Math.max(1, Math.floor(options.streams ?? 1));
  const loaded = columns.map((c, i) => ({ c, i })).filter(({ c }) => !options.generated?.includes(c.name));
  const memoryMb = options.memoryMb === undefined ? undefined : Math.floor(options.memoryMb / streams);
  const ducks: DuckdbSession[] = [];
  const pipes: string[] = [];
  try {
    for (let k = 0; k < streams; k++) ducks.push(await openDuckdb(workDir, { memoryMb }));
    await assertParquetColumns(ducks[0]!.query, file, columns);
    let ranges: ReadonlyArray<string> = [""];
    if (streams > 1) {
      const [count] = await ducks[0]!.query(`SELECT CAST(count(*) AS VARCHAR) AS n FROM read_parquet(${quoteLiteral(file)})`, `count the rows of ${file}`);
      const rows = Number(count?.n);
      const bound = (k: number) => Math.floor((k * rows) / streams);
      ranges = ducks.map((_, k) => ` WHERE t.file_row_number >= ${bound(k)} AND t.file_row_number < ${bound(k + 1)}`);
    }
    const alias = columns.map((_, i) => quoteIdent(`c${i}`)).join(", ");
    const select = loaded.map(({ c, i }) => `${restoreExpression(c.parquetType, `t.${quoteIdent(`c${i}`)}`)} AS ${quoteIdent(`c${i}`)}`).join(", ");
    const source = `read_parquet(${quoteLiteral(file)}${streams > 1 ? ", file_row_number = true" : ""}) AS t(${alias})`;
    const copy = `copy ${quoteQualified(target)} (${loaded.map(({ c }) => quoteIdent(c.name)).join(", ")}) from stdin (format csv)`;
    for (let k = 0; k < streams; k++) {
      pipes.push(path.resolve(workDir, `restore-${randomUUID()}.csv`));
      await createNamedPipe(pipes[k]!);
    }
    const conversions = ducks.map((duck, k) =>
      duck.query(
        `COPY (SELECT ${select} FROM ${source}${ranges[k]}) TO ${quoteLiteral(pipes[k]!)} ` +
          `(FORMAT csv, HEADER false, DELIMITER ',', QUOTE '"', ESCAPE '"', NULLSTR '', FORCE_QUOTE *)`,
        `convert ${file} to CSV for restore`,
      ),
    );
    const allConverted = Promise.all(conversions);
    allConverted.catch(() => {}); // each failure is reported through settleNamedPipe below
    const settledStreams = await Promise.all(
      pipes.map((pipe, k) => {
        const untilConverted = new Transform({
          transform: (chunk: Buffer, _encoding, done) => done(null, chunk),
          flush: (done) => void allConverted.then(() => done(), done),
        });
        const loading = withCopyClient(options.openCopyClient, async (sql) => {
          await pipeline(createReadStream(pipe), untilConverted, await sql.unsafe(copy).writable());
        });
        return settleNamedPipe(pipe, conversions[k]!, loading);
      }),
    );
    // A DuckDB failure reaches every COPY through untilConverted; any other COPY failure (Postgres
    // rejected a value) is the root cause, and DuckDB's broken pipe its consequence.
    const conversionFailures = new Set(settledStreams.flatMap(([converted]) => (converted.status === "rejected" ? [converted.reason] : [])));
    for (const [, copied] of settledStreams) {
      if (copied.status === "rejected" && !conversionFailures.has(copied.reason)) {
        const error = copied.reason as Error;
        throw new ArchiveError(`COPY into ${displayName(target)} from ${file} failed: ${error.message}`, { cause: error });
      }
    }
    for (const [converted] of settledStreams) if (converted.status === "rejected") throw converted.reason;
    const rows = settledStreams.reduce((n, [converted]) => n + Number(converted.status === "fulfilled" ? (converted.value[0]?.Count ?? Number.NaN) : Number.NaN), 0);
    return Object.freeze({ rows });
  } finally {
    for (const duck of ducks) duck.close();
    await Promise.all(pipes.map((pipe) => rm(pipe, { force: true })));
  }
}
