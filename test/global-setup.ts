import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { releaserStack } from "@partkeeper/core";
import { startLocalPostgres } from "../packages/cli/src/local/embedded-postgres.ts";
import { startLocalS3 } from "../packages/cli/src/local/s3-server.ts";

import { TEST_BUCKET } from "./helpers.ts";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    s3Endpoint: string;
  }
}

/**
 * Starts one real PostgreSQL (or uses DATABASE_URL) and one S3-compatible server for the whole run;
 * each test file then creates its own database (test/helpers.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const releasers = releaserStack();
  const root = await mkdtemp(path.join(os.tmpdir(), "partkeeper-test-"));
  releasers.push(() => rm(root, { recursive: true, force: true }));
  try {
    let databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) {
      const pg = await startLocalPostgres(path.join(root, "pg"), { persistent: false });
      releasers.push(() => pg.stop());
      databaseUrl = pg.url;
    }
    const s3 = await startLocalS3(path.join(root, "s3"), [TEST_BUCKET]);
    releasers.push(() => s3.stop());
    project.provide("databaseUrl", databaseUrl);
    project.provide("s3Endpoint", s3.endpoint);
  } catch (error) {
    await releasers.release();
    throw error;
  }
  return releasers.release;
}
