import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Config } from "../config/schema.ts";
import { noMetrics, type JobContext, type Logger, type Metrics } from "../context.ts";
import { createClient, poolSizeFor } from "../db/client.ts";
import { releaserStack } from "../releasers.ts";
import { createS3Store, s3OptionsFromEnvironment } from "../store/s3-store.ts";

export interface OpenJobContextOptions {
  readonly databaseUrl: string;
  /** The process environment (the door's `process.env`): the S3 endpoint and region (s3-store.ts `s3OptionsFromEnvironment`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Epoch ms after which no new action starts. Default: no deadline. */
  readonly deadline?: number;
  /** Parent of the scratch directory. Default os.tmpdir() (Lambda: /tmp). */
  readonly tmpDir?: string;
  readonly clock?: () => Date;
  /** Memory of the process, MB (Lambda: the function's memory size). Default: the machine's total memory. */
  readonly memoryMb?: number;
}

/**
 * Opens what a job needs (Postgres pool, archive store, scratch directory) and returns it with
 * `close()`, which releases everything in reverse order, once (STYLE.md rule 13).
 */
export async function openJobContext(options: OpenJobContextOptions): Promise<{ ctx: JobContext; close: () => Promise<void> }> {
  const releasers = releaserStack();
  try {
    const sql = createClient(options.databaseUrl, { max: poolSizeFor(options.config.maintain.concurrency) });
    releasers.push(() => sql.end({ timeout: 5 }));
    const store = options.config.archive ? createS3Store(options.config.archive.location, s3OptionsFromEnvironment(options.env)) : null;
    if (store) releasers.push(() => store.close());
    const workDir = await mkdtemp(path.join(options.tmpDir ?? os.tmpdir(), "partkeeper-"));
    releasers.push(() => rm(workDir, { recursive: true, force: true }));
    const ctx: JobContext = {
      sql,
      openCopyClient: () => createClient(options.databaseUrl, { max: 1 }),
      store,
      config: options.config,
      clock: options.clock ?? (() => new Date()),
      logger: options.logger,
      metrics: options.metrics ?? noMetrics,
      deadline: options.deadline ?? Number.POSITIVE_INFINITY,
      workDir,
      memoryMb: options.memoryMb ?? Math.floor(os.totalmem() / 1024 / 1024),
    };
    return { ctx, close: releasers.release };
  } catch (error) {
    await releasers.release();
    throw error;
  }
}
