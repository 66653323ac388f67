/**
 * The job catalog: every Lambda job partkeeper ships, as plain data. `infra/jobs.ts` builds one
 * function (and, for scheduled jobs, one CronV2 schedule) per entry, and the CLI's `run <job>`
 * accepts the same names as LIFECYCLE_JOBS (restore and migrate have their own commands), so the
 * two doors never disagree on what exists.
 */

/** S3 access a job's function needs on the archive prefix; infra grants exactly this, never delete. */
export type ArchiveAccess = "none" | "read" | "read-write";

/**
 * What a job runs: `plan` applies the parts of each configured parent's plan it names (plan-all.ts
 * `PlanWhich`: future partitions, expired partitions) through run/run-job.ts; `restore` loads one
 * archived partition back on demand through run/run-restore.ts; `migrate` advances the config's
 * batched migrations (or, on demand, acts on one) through run/run-migrations.ts; `refresh-stats`
 * refreshes materialized views and analyzes what needs it through run/run-refresh-stats.ts.
 */
export type JobRuns =
  | { readonly kind: "plan"; readonly future: boolean; readonly expired: boolean }
  | { readonly kind: "restore" }
  | { readonly kind: "migrate" }
  | { readonly kind: "refresh-stats" };

export interface JobDefinition {
  /** Job name, also the `job` field of its event (and, for the lifecycle jobs, the CLI's `run <job>`). */
  readonly name: string;
  readonly description: string;
  readonly runs: JobRuns;
  /**
   * EventBridge Scheduler expression (`rate(...)` or `cron(...)`, evaluated in the app's time zone),
   * or null for an on-demand job.
   */
  readonly schedule: string | null;
  /** How often the schedule fires at most, minutes: the heartbeat alarm waits twice this. Null when on demand. */
  readonly periodMinutes: number | null;
  /** Lambda timeout, seconds (Lambda's limit is 900). */
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** /tmp size, MB (512-10240): the archive job stages CSV and Parquet files there. */
  readonly ephemeralStorageMb: number;
  /** Handler module under packages/functions/src, `<file>.handler`. */
  readonly handler: string;
  readonly archiveAccess: ArchiveAccess;
}

/**
 * Jobs stop starting new work this long before their Lambda timeout, ms (a step such as an archive
 * export or a migration batch can take a while), and continue on their next run. The Duration alarm
 * fires only when a run ends within half of this margin of its timeout: a step overran the deadline.
 */
export const DEADLINE_MARGIN_MS = 90_000;

export const JOBS = [
  {
    name: "maintain",
    description: "Create future partitions (premake) and default partitions; move stray default-partition rows.",
    runs: { kind: "plan", future: true, expired: false },
    schedule: "rate(1 hour)",
    periodMinutes: 60,
    timeoutSeconds: 300,
    memoryMb: 512,
    ephemeralStorageMb: 512,
    handler: "packages/functions/src/maintain.handler",
    archiveAccess: "none",
  },
  {
    name: "archive",
    description: "Archive expired partitions to Parquet on S3, verify the archive, then drop or keep them.",
    runs: { kind: "plan", future: false, expired: true },
    schedule: "cron(30 2 * * ? *)",
    periodMinutes: 24 * 60,
    timeoutSeconds: 900,
    memoryMb: 2048,
    ephemeralStorageMb: 10240,
    handler: "packages/functions/src/archive.handler",
    archiveAccess: "read-write",
  },
  {
    name: "restore",
    description: "Restore one archived partition: attach it again, or load it into a side table to inspect.",
    runs: { kind: "restore" },
    schedule: null,
    periodMinutes: null,
    timeoutSeconds: 900,
    memoryMb: 2048,
    ephemeralStorageMb: 10240,
    handler: "packages/functions/src/restore.handler",
    archiveAccess: "read",
  },
  {
    name: "migrate",
    description:
      "Advance the config's batched migrations (backfill, verify, swap when auto, finalize after the grace period); " +
      "on demand, act on one migration (swap, rollback, ...).",
    runs: { kind: "migrate" },
    // Each run backfills until its deadline and the next one continues: a 15-minute rate keeps a
    // backfill going nearly without pause, and a run with nothing to do takes a second.
    schedule: "rate(15 minutes)",
    periodMinutes: 15,
    timeoutSeconds: 900,
    memoryMb: 1024,
    ephemeralStorageMb: 512,
    handler: "packages/functions/src/migrate.handler",
    archiveAccess: "none",
  },
  {
    name: "refresh-stats",
    description: "Refresh the configured materialized views and ANALYZE partitioned parents and new or much-changed partitions, within a time budget.",
    runs: { kind: "refresh-stats" },
    // Daily, after the archive job (02:30): the views then summarize what stays in the database.
    schedule: "cron(30 4 * * ? *)",
    periodMinutes: 24 * 60,
    timeoutSeconds: 900,
    memoryMb: 512,
    ephemeralStorageMb: 512,
    handler: "packages/functions/src/refresh-stats.handler",
    archiveAccess: "none",
  },
] as const satisfies ReadonlyArray<JobDefinition>;

export type JobName = (typeof JOBS)[number]["name"];

/** Names of the jobs a schedule runs, in the order `run` with no job name runs them (the lifecycle). */
export const LIFECYCLE_JOBS = ["maintain", "archive"] as const satisfies ReadonlyArray<JobName>;

/** Type guard: `name` is a job of the catalog. */
export function isJobName(name: string): name is JobName {
  return JOBS.some((j) => j.name === name);
}

/** The catalog entry of a job name (exists by type). */
export function jobDefinition(name: JobName): JobDefinition {
  return JOBS.find((j) => j.name === name)!;
}
