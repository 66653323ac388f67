import { mkdir } from "node:fs/promises";
import path from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { ArchiveError } from "../errors.ts";

/** An in-memory DuckDB used for one archive step; `close()` is idempotent. */
export interface DuckdbSession {
  /** Runs `statement` and returns its rows as JSON-safe objects (BIGINT as string, BLOB as hex-ish text). */
  query(statement: string, what: string): Promise<ReadonlyArray<Record<string, unknown>>>;
  close(): void;
}

/**
 * Opens an in-memory DuckDB whose temp and home directories live inside `workDir` (on Lambda only
 * /tmp is writable), with TimeZone = 'UTC' (TIMESTAMPTZ values print with `+00`) and extension
 * auto-install off: the json, parquet and icu extensions are statically linked into
 * `@duckdb/node-api` 1.5 (`duckdb_extensions().install_mode`), and a
 * Lambda has no network path to DuckDB's extension repository anyway.
 * @throws ArchiveError when DuckDB cannot start; `query` throws ArchiveError naming `what`.
 */
export async function openDuckdb(workDir: string): Promise<DuckdbSession> {
  const home = path.join(workDir, "duckdb-home");
  const temp = path.join(workDir, "duckdb-tmp");
  await mkdir(home, { recursive: true });
  await mkdir(temp, { recursive: true });
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  try {
    instance = await DuckDBInstance.create(":memory:", {
      home_directory: home,
      temp_directory: temp,
      extension_directory: path.join(home, "extensions"),
      autoinstall_known_extensions: "false",
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
