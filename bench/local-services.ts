import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { releaserStack, type Releasers } from "@partkeeper/core";
import { startLocalPostgres, type LocalPostgres } from "../packages/cli/src/local/embedded-postgres.ts";
import { startLocalS3 } from "../packages/cli/src/local/s3-server.ts";

/** What a bench runs against; `release()` undoes everything once, in reverse (STYLE rule 13). */
export interface BenchServices {
  /** Scratch directory, removed by `release()`. */
  readonly root: string;
  readonly pg: LocalPostgres;
  /** Add what the bench opens (clients, contexts); released before the services. */
  readonly releasers: Releasers;
  release(): Promise<void>;
}

/**
 * Starts an embedded PostgreSQL in a fresh scratch directory `partkeeper-<name>-*` and, when
 * `buckets` are given, the local S3 server with those buckets, its SDK environment set on
 * `process.env` (as a user's AWS_ENDPOINT_URL_S3 would be). `postgres.binDir`: another server's bin directory
 * (e.g. Debian's /usr/lib/postgresql/15/bin) instead of the embedded one. Cleans up itself if a start fails.
 */
export async function startBenchServices(name: string, buckets?: ReadonlyArray<string>, postgres: { readonly binDir?: string } = {}): Promise<BenchServices> {
  const releasers = releaserStack();
  const root = await mkdtemp(path.join(os.tmpdir(), `partkeeper-${name}-`));
  releasers.push(() => rm(root, { recursive: true, force: true }));
  try {
    const pg = await startLocalPostgres(path.join(root, "pg"), { persistent: false, ...postgres });
    releasers.push(() => pg.stop());
    if (buckets) {
      const s3 = await startLocalS3(path.join(root, "s3"), [...buckets]);
      releasers.push(() => s3.stop());
      Object.assign(process.env, s3.sdkEnvironment);
    }
    return { root, pg, releasers, release: releasers.release };
  } catch (error) {
    await releasers.release();
    throw error;
  }
}
