import type { Config } from "./config/schema.ts";
import type { Sql } from "./db/client.ts";
import type { ObjectStore } from "./store/object-store.ts";

/** Structured logger; Powertools Logger fits it as is. Fields must not carry bind values or row data. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Job metrics, emitted by the Lambda door as CloudWatch EMF; a no-op elsewhere. */
export interface Metrics {
  /** Adds `value` (unit Count) to metric `name`, with an optional `Parent` dimension. */
  count(name: string, value: number, parent?: string): void;
  /** Records a gauge (unit Count), e.g. partitions ahead, rows in a default partition. */
  gauge(name: string, value: number, parent?: string): void;
  /** Records `value` in `unit` with its own dimensions, e.g. a refresh's duration per `View`. */
  measure(name: string, value: number, unit: MetricUnitName, dimensions?: Readonly<Record<string, string>>): void;
}

/** CloudWatch units partkeeper's metrics use. */
export type MetricUnitName = "Count" | "Milliseconds" | "Seconds";

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
export const noMetrics: Metrics = { count() {}, gauge() {}, measure() {} };

/**
 * What the rooms that move rows (archive, restore) take of a job's context: the database, scratch
 * space and memory, a logger and the clock. Lower rooms take parts like this, never JobContext.
 */
export interface DataAccess {
  readonly sql: Sql;
  /**
   * Opens a fresh single-connection client for COPY streams, ended by the caller afterwards
   * (PLATFORM-NOTES: a COPY with backpressure can wedge the pooled connection, postgres.js #499/#917).
   */
  readonly openCopyClient: () => Sql;
  /** Scratch directory for export files (Lambda: under /tmp). */
  readonly workDir: string;
  /**
   * Memory of the process running the job, MB (Lambda: the function's memory size); DuckDB's
   * memory_limit is derived from it (parquet/duckdb-session.ts). Undefined: DuckDB's default.
   */
  readonly memoryMb?: number | undefined;
  readonly logger: Logger;
  /** Current time; jobs call it once per run (UTC instant). */
  readonly clock: () => Date;
}

/**
 * Everything a job needs, passed in by the door (CLI or Lambda) through openJobContext, so core
 * never reads the environment, the clock or the console itself (STYLE.md rule 12).
 */
export interface JobContext extends DataAccess {
  /** The archive store, or null when no table archives. */
  readonly store: ObjectStore | null;
  readonly config: Config;
  readonly metrics: Metrics;
  /** Epoch ms after which a job stops starting new work (Lambda: a margin before its timeout). */
  readonly deadline: number;
}
