/**
 * Runs one `migrate` action in its own process, for tests that kill it (test/migrate-crash.test.ts):
 *
 *   node --import tsx test/migrate-child.ts <database URL> <config JSON> <action> [id]
 *
 * The clock is the test clock (2026-11-21, as testJobContext's) so the partitions it plans are the
 * ones a rerun in the test process plans. Prints one JSON line per backfill batch (`{"progress":...}`)
 * and the summary last (`{"summary":...}`); exit code 0 when the summary is ok.
 */
import { openJobContext, parseConfig, runMigrations, silentLogger, type MigrateAction } from "@partkeeper/core";

const [databaseUrl, configJson, action, id] = process.argv.slice(2);
if (!databaseUrl || !configJson || !action) {
  process.stderr.write("usage: node --import tsx test/migrate-child.ts <database URL> <config JSON> <action> [id]\n");
  process.exit(2);
}
const now = new Date("2026-11-21T12:00:00Z");
const { ctx, close } = await openJobContext({
  databaseUrl,
  env: process.env,
  config: parseConfig(JSON.parse(configJson)),
  logger: silentLogger,
  clock: () => now,
});
try {
  const summary = await runMigrations(ctx, {
    action: action as MigrateAction,
    id: id || undefined,
    dryRun: false,
    onProgress: (progress) => process.stdout.write(`${JSON.stringify({ progress })}\n`),
  });
  process.stdout.write(`${JSON.stringify({ summary })}\n`);
  process.exitCode = summary.ok ? 0 : 1;
} finally {
  await close();
}
