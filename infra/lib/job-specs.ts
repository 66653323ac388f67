/**
 * What infra/jobs.ts builds for each job of the catalog, as plain data.
 * PURE: no `sst`/Pulumi imports; test/infra/job-specs.test.ts checks it.
 */
import type { ArchiveAccess, JobDefinition } from "../../packages/core/src/jobs.ts";
import type { JobSchedule, Settings } from "./settings.ts";

/** Lambda's hard limits (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;
export const LAMBDA_MAX_ENVIRONMENT_BYTES = 4096;
export const LAMBDA_MAX_UNZIPPED_BYTES = 250 * 1024 * 1024;

/** Async retries Lambda makes after a failed scheduled run (1 and 2 minutes later are Lambda's own delays). */
export const SCHEDULED_ASYNC_RETRIES = 1;
/** Retries EventBridge Scheduler makes when it cannot hand the event to Lambda at all. */
export const SCHEDULER_RETRIES = 2;

/** npm packages with a native binding: installed (not bundled) for the function's architecture. */
export const NATIVE_PACKAGES = ["@duckdb/node-api"] as const;

export interface JobSpec {
  readonly name: string;
  /** Pascal-case base of the Pulumi resource names, e.g. `RefreshStats`. */
  readonly resourceName: string;
  /** Lambda function name, `<app>-<stage>-<job>` (at most 64 characters). */
  readonly functionName: string;
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly ephemeralStorageMb: number;
  readonly archiveAccess: ArchiveAccess;
  /** Null for on-demand jobs (restore). */
  readonly schedule: JobSchedule | null;
  /** The scheduled event: the job's own input, which its handler zod-validates. */
  readonly event: { readonly job: string } | null;
  /** 1 for scheduled jobs: two runs of one job never overlap (the advisory lock is the second guard). */
  readonly reservedConcurrency: number | null;
  /** Lambda async retries before the event goes to the dead-letter queue. */
  readonly asyncRetries: number;
  /** Events older than this are dropped to the dead-letter queue instead of being retried (seconds, 60-21600). */
  readonly maxEventAgeSeconds: number;
  /** Every function sends failed async events to the shared dead-letter queue. */
  readonly deadLetterQueue: true;
}

/** Builds one spec per catalog entry. Throws when the catalog or settings break a Lambda limit. */
export function jobSpecs(jobs: ReadonlyArray<JobDefinition>, settings: Settings, app: { name: string; stage: string }): JobSpec[] {
  return jobs.map((job) => {
    const schedule = job.schedule === null ? null : (settings.schedules[job.name] ?? null);
    if (job.schedule !== null && schedule === null) throw new Error(`job ${job.name}: scheduled in the catalog but missing from settings`);
    if (!Number.isInteger(job.timeoutSeconds) || job.timeoutSeconds < 1 || job.timeoutSeconds > LAMBDA_MAX_TIMEOUT_SECONDS) {
      throw new Error(`job ${job.name}: timeoutSeconds ${job.timeoutSeconds} is outside Lambda's 1-${LAMBDA_MAX_TIMEOUT_SECONDS} s`);
    }
    if (job.memoryMb < 128 || job.memoryMb > 10_240) throw new Error(`job ${job.name}: memoryMb ${job.memoryMb} is outside Lambda's 128-10240 MB`);
    if (job.ephemeralStorageMb < 512 || job.ephemeralStorageMb > 10_240) {
      throw new Error(`job ${job.name}: ephemeralStorageMb ${job.ephemeralStorageMb} is outside Lambda's 512-10240 MB`);
    }
    const functionName = `${app.name}-${app.stage}-${job.name}`;
    if (functionName.length > 64 || !/^[A-Za-z0-9_-]+$/.test(functionName)) {
      throw new Error(`function name ${functionName} is not a valid Lambda name (letters, digits, - and _, at most 64): use a shorter stage name`);
    }
    return Object.freeze({
      name: job.name,
      resourceName: pascalCase(job.name),
      functionName,
      handler: job.handler,
      timeoutSeconds: job.timeoutSeconds,
      memoryMb: job.memoryMb,
      ephemeralStorageMb: job.ephemeralStorageMb,
      archiveAccess: job.archiveAccess,
      schedule,
      event: schedule === null ? null : Object.freeze({ job: job.name }),
      reservedConcurrency: schedule === null ? null : 1,
      // Restore is run by an operator: a failed async restore goes to the DLQ once, never again on its own.
      asyncRetries: schedule === null ? 0 : SCHEDULED_ASYNC_RETRIES,
      // A run that could not start within one period is stale: the next scheduled run does the same work.
      maxEventAgeSeconds: clamp(schedule === null ? 3600 : schedule.periodMinutes * 60, 60, 21_600),
      deadLetterQueue: true as const,
    });
  });
}

/**
 * `{ "@duckdb/node-api": "<exact locked version>" }` for sst.aws.Function `nodejs.install`, read from
 * package-lock.json so the function gets exactly the version the tests ran. SST runs npm install with
 * `--os=linux --cpu=<arch> --libc=glibc`, which picks the matching `@duckdb/node-bindings-linux-*`.
 */
export function nativeInstall(lock: { packages?: Record<string, { version?: string }> }): Record<string, string> {
  const install: Record<string, string> = {};
  for (const name of NATIVE_PACKAGES) {
    const version = lock.packages?.[`node_modules/${name}`]?.version;
    if (!version) throw new Error(`${name} is not in package-lock.json: run npm install first`);
    install[name] = version;
  }
  return install;
}

/** Bytes Lambda counts against its 4 KB environment limit (keys plus values). */
export function environmentBytes(environment: Readonly<Record<string, string>>): number {
  return Object.entries(environment).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
}

/** Throws when the environment would not fit Lambda's 4 KB (the config JSON is the usual culprit). */
export function assertEnvironmentFits(functionName: string, environment: Readonly<Record<string, string>>): void {
  const bytes = environmentBytes(environment);
  if (bytes > LAMBDA_MAX_ENVIRONMENT_BYTES) {
    const largest = Object.entries(environment).sort((a, b) => b[1].length - a[1].length)[0]?.[0];
    throw new Error(
      `${functionName}: environment is ${bytes} bytes, Lambda allows ${LAMBDA_MAX_ENVIRONMENT_BYTES}; the largest variable is ${largest}. ` +
        `Minify the PartkeeperConfig secret (no whitespace) or shorten the database URL.`,
    );
  }
}

export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join("");
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
