/**
 * Runs the archive job in its own process, for tests that kill it (test/archive-parts.test.ts):
 *
 *   node --import tsx test/archive-child.ts <database URL> <config JSON>
 *
 * The clock is the test clock (2026-11-21, as testJobContext's). The S3 endpoint and credentials come
 * from the environment, as the test process set them (helpers.ts useTestS3). Prints the summary as one
 * JSON line; exit code 0 when it is ok.
 */
import { openJobContext, parseConfig, runJob, silentLogger } from "@partkeeper/core";

const [databaseUrl, configJson] = process.argv.slice(2);
if (!databaseUrl || !configJson) {
  process.stderr.write("usage: node --import tsx test/archive-child.ts <database URL> <config JSON>\n");
  process.exit(2);
}
const now = new Date("2026-11-21T12:00:00Z");
const { ctx, close } = await openJobContext({ databaseUrl, env: process.env, config: parseConfig(JSON.parse(configJson)), logger: silentLogger, clock: () => now });
try {
  const summary = await runJob(ctx, { job: "archive", dryRun: false });
  process.stdout.write(`${JSON.stringify({ summary })}\n`);
  process.exitCode = summary.ok ? 0 : 1;
} finally {
  await close();
}
