import type { MigrationSpec } from "../config/schema.ts";
import type { JobContext } from "../context.ts";
import { migrate } from "../db/migrate.ts";
import { withParentLock } from "../db/parent-lock.ts";
import { ConfigError } from "../errors.ts";
import { displayName } from "../identifier.ts";
import {
  advanceMigration,
  migrationOutcome,
  pendingChanges,
  progressOf,
  type MigrateAction,
  type MigrationOutcome,
  type MigrationProgress,
} from "../migrate/advance-migration.ts";
import { advanceMove } from "../migrate/move/advance-move.ts";
import { readMigrationRecords, type MigrationState } from "../records/data-migrations.ts";
import { finishJobRun, insertJobRun } from "../records/job-runs.ts";

export interface MigrateOptions {
  readonly action: MigrateAction;
  /** The migration to act on; `run` without it advances every migration of the config. */
  readonly id?: string | undefined;
  /** Plan only (`migrate plan`): steps and SQL, nothing changed. */
  readonly dryRun: boolean;
  /** finalize before the grace period is over. */
  readonly force?: boolean | undefined;
  /** Called after each backfill batch (rows, rows/s, ETA), for a progress bar. */
  readonly onProgress?: ((progress: MigrationProgress) => void) | undefined;
}

/** What a `migrate` run did; `ok` is false when any migration failed (the Lambda door then fails the invocation). */
export interface MigrateSummary {
  readonly action: MigrateAction;
  readonly dryRun: boolean;
  /** ISO-8601 UTC. */
  readonly startedAt: string;
  readonly durationMs: number;
  readonly migrations: ReadonlyArray<MigrationOutcome>;
  readonly ok: boolean;
  /** Row id in `partkeeper.job_run`; null in a dry run. */
  readonly jobRunId: number | null;
}

/**
 * The configured migrations an action covers: the one named `id`, or (only for `run`) all of them.
 * @throws ConfigError when `id` is not a migration of the config, or an action other than run has no id.
 */
export function selectMigrations(migrations: ReadonlyArray<MigrationSpec>, action: MigrateAction, id: string | undefined): MigrationSpec[] {
  if (id === undefined) {
    if (action !== "run") throw new ConfigError(`migrate ${action} needs the migration's id (--id, or "id" in the event)`);
    return [...migrations];
  }
  const spec = migrations.find((m) => m.id === id);
  if (!spec) {
    const known = migrations.map((m) => m.id).join(", ") || "none";
    throw new ConfigError(`${JSON.stringify(id)} is not a migration id of the config (migrations: ${known})`);
  }
  return [spec];
}

/**
 * Runs a migrate action over the selected migrations, one at a time, each under its table's advisory
 * lock (DESIGN rule 2: the maintain and archive jobs take the same lock, so nothing else works on the
 * table meanwhile). A migration that fails is reported and the next one still runs.
 * @throws ConfigError (before any SQL) for an unknown id.
 */
export async function runMigrations(ctx: JobContext, options: MigrateOptions): Promise<MigrateSummary> {
  const started = ctx.clock();
  const specs = selectMigrations(ctx.config.migrations, options.action, options.id);
  let jobRunId: number | null = null;
  if (!options.dryRun) {
    await migrate(ctx.sql, ctx.config.lockTimeoutMs);
    jobRunId = await insertJobRun(ctx.sql, "migrate");
  }
  const access = { sql: ctx.sql, config: ctx.config, logger: ctx.logger, clock: ctx.clock, deadline: ctx.deadline, onProgress: options.onProgress };
  const outcomes: MigrationOutcome[] = [];
  for (const spec of specs) {
    const advanceOptions = { action: options.action, dryRun: options.dryRun, force: options.force ?? false };
    const advance = () => (spec.kind === "move" ? advanceMove(access, spec, advanceOptions) : advanceMigration(access, spec, advanceOptions));
    if (options.dryRun) {
      outcomes.push(await advance());
      continue;
    }
    const locked = await withParentLock(ctx.sql, spec.table, advance);
    outcomes.push(
      locked.acquired
        ? locked.value
        : migrationOutcome(spec, Date.now(), {
            status: "deferred",
            stateBefore: "new",
            stateAfter: "new",
            steps: [],
            rowsCopied: 0,
            changesDrained: 0,
            message: `skipped: another partkeeper run is working on ${displayName(spec.table)} (${locked.holder})`,
          }),
    );
  }
  const summary: MigrateSummary = {
    action: options.action,
    dryRun: options.dryRun,
    startedAt: started.toISOString(),
    durationMs: ctx.clock().getTime() - started.getTime(),
    migrations: outcomes,
    ok: outcomes.every((o) => o.status !== "failed"),
    jobRunId,
  };
  if (!options.dryRun) {
    for (const o of outcomes) {
      ctx.metrics.count("MigrationRowsCopied", o.rowsCopied, o.table);
      ctx.metrics.count("MigrationChangesDrained", o.changesDrained, o.table);
    }
    ctx.metrics.count("MigrationsFailed", outcomes.filter((o) => o.status === "failed").length);
    ctx.metrics.count(summary.ok ? "JobSucceeded" : "JobFailed", 1);
  }
  if (jobRunId !== null) {
    const error = outcomes.filter((o) => o.status === "failed").map((o) => `${o.id}: ${o.message}`).join("\n") || null;
    await finishJobRun(ctx.sql, jobRunId, { ok: summary.ok, summary, error });
  }
  return summary;
}

/** One migration as `migrate status` shows it. */
export interface MigrationStatus {
  readonly id: string;
  readonly kind: string;
  readonly table: string;
  /** `new` before the first run. */
  readonly state: MigrationState | "new";
  readonly paused: boolean;
  readonly progress: MigrationProgress | null;
  /** Last key backfilled and the boundary, as text per key column. */
  readonly watermark: ReadonlyArray<string> | null;
  readonly boundary: ReadonlyArray<string> | null;
  /** Captured changes not yet applied (rows); null when no capture is installed. */
  readonly pendingChanges: number | null;
  readonly swappedAt: string | null;
  readonly lastError: string | null;
  readonly updatedAt: string | null;
}

/** Read-only state of every configured migration (or the one named `id`). */
export async function readMigrationStatus(ctx: Pick<JobContext, "sql" | "config">, id?: string): Promise<MigrationStatus[]> {
  const specs = id === undefined ? ctx.config.migrations : selectMigrations(ctx.config.migrations, "run", id);
  const records = await readMigrationRecords(ctx.sql);
  const result: MigrationStatus[] = [];
  for (const spec of specs) {
    const record = records.get(spec.id) ?? null;
    result.push({
      id: spec.id,
      kind: spec.kind,
      table: displayName(spec.table),
      state: record?.state ?? "new",
      paused: record?.paused ?? false,
      progress: record ? progressOf(record) : null,
      watermark: record?.watermark ?? null,
      boundary: record?.boundary ?? null,
      pendingChanges: record ? await pendingChanges(ctx.sql, spec, ctx.config, record) : null,
      swappedAt: record?.swappedAt?.toISOString() ?? null,
      lastError: record?.lastError ?? null,
      updatedAt: record?.updatedAt.toISOString() ?? null,
    });
  }
  return result;
}
