import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { ArchiveError } from "../errors.ts";

/** An in-memory DuckDB used for one archive step; `close()` is idempotent. */
export interface DuckdbSession {
  /** Runs `statement` and returns its rows as JSON-safe objects (BIGINT as string, BLOB as hex-ish text). */
  query(statement: string, what: string): Promise<ReadonlyArray<Record<string, unknown>>>;
  close(): void;
}

/** How much memory DuckDB may use. */
export interface DuckdbOptions {
  /**
   * Memory of the process that runs the job, MB (Lambda: the function's memory size). DuckDB's
   * `memory_limit` is set to DUCKDB_MEMORY_SHARE of it, leaving the rest to Node, postgres.js and
   * the S3 upload's part buffers. Default: DuckDB's own default (80 % of the memory it detects).
   */
  readonly memoryMb?: number | undefined;
}

/** Share of the process memory DuckDB may use (the rest: Node heap, COPY and S3 buffers). */
export const DUCKDB_MEMORY_SHARE = 0.6;

/** DuckDB's `memory_limit` for a process with `memoryMb` of memory, bytes; null: DuckDB's default. */
export function duckdbMemoryLimitBytes(memoryMb: number | undefined): number | null {
  return memoryMb === undefined ? null : Math.floor(memoryMb * DUCKDB_MEMORY_SHARE) * 1024 * 1024;
}

/**
 * Opens an in-memory DuckDB whose temp and home directories live inside `workDir` (on Lambda only
 * /tmp is writable), with `memory_limit` from `options.memoryMb` (DuckDB spills to the temp
 * directory beyond it), with TimeZone = 'UTC' (TIMESTAMPTZ values print with `+00`) and extension
 * auto-install off: the json, parquet and icu extensions are statically linked into
 * `@duckdb/node-api` 1.5 (`duckdb_extensions().install_mode`), and a
 * Lambda has no network path to DuckDB's extension repository anyway.
 * @throws ArchiveError when DuckDB cannot start; `query` throws ArchiveError naming `what`.
 */
export async function openDuckdb(workDir: string, options: DuckdbOptions = {}): Promise<DuckdbSession> {
  const home = path.join(workDir, "duckdb-home");
  const temp = path.join(workDir, "duckdb-tmp");
  await mkdir(home, { recursive: true });
  await mkdir(temp, { recursive: true });
  const memoryLimit = duckdbMemoryLimitBytes(options.memoryMb);
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  try {
    // Loaded here, not at the top: the native binding costs about 0.3 s of every CLI start and
    // Lambda cold start, and only the archive and restore jobs need it.
    const { DuckDBInstance } = await import("@duckdb/node-api");
    instance = await DuckDBInstance.create(":memory:", {
      home_directory: home,
      temp_directory: temp,
      extension_directory: path.join(home, "extensions"),
      autoinstall_known_extensions: "false",
      ...(memoryLimit === null ? {} : { memory_limit: `${Math.floor(memoryLimit / 1024 / 1024)}MB` }),
    });
    connection = await instance.connect();
    // Not in the create options: TimeZone is an ICU setting, registered only once ICU has loaded.
    await connection.run("SET TimeZone = 'UTC'");
  } catch (error) {
    throw new ArchiveError(`could not start DuckDB in ${workDir}: ${(error as Error).message}`, { cause: error });
  }
  let closed = false;
  return {
    async query(statement, what) {
      try {
        const reader = await connection.runAndReadAll(statement);
        return reader.getRowObjectsJson() as ReadonlyArray<Record<string, unknown>>;
      } catch (error) {
        throw new ArchiveError(`DuckDB failed to ${what}: ${(error as Error).message}`, { cause: error });
      }
    },
    close() {
      if (closed) return;
      closed = true;
      connection.closeSync();
      instance.closeSync();
    },
  };
}
