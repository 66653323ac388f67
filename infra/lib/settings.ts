/**
 * Deploy-time settings, read from environment variables when `sst deploy` runs, with defaults.
 * PURE: imports nothing from `sst` or Pulumi, so `test/infra/*.test.ts` can check it.
 * Every variable is documented in docs/deploy.md ("Settings"); keep the two in step.
 */
import type { JobDefinition } from "../../packages/core/src/jobs.ts";

/** S3 storage classes archives may move to. Only classes that GetObject can read directly. */
export const COLD_STORAGE_CLASSES = ["GLACIER_IR", "STANDARD_IA", "INTELLIGENT_TIERING"] as const;
export type ColdStorageClass = (typeof COLD_STORAGE_CLASSES)[number];

export const ARCHITECTURES = ["x86_64", "arm64"] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export const DATABASE_MODES = ["secret", "postgres"] as const;
/** `secret`: DATABASE_URL from the `DatabaseUrl` sst.Secret. `postgres`: an sst.aws.Postgres this app creates. */
export type DatabaseMode = (typeof DATABASE_MODES)[number];

export type VpcSettings =
  | { readonly mode: "off" }
  /** Functions join subnets of a VPC created elsewhere (where the database lives). */
  | {
      readonly mode: "existing";
      readonly subnetIds: ReadonlyArray<string>;
      readonly securityGroupIds: ReadonlyArray<string>;
      /** Route tables of those subnets: an S3 gateway endpoint is added to them. Empty: you provide NAT or an endpoint. */
      readonly routeTableIds: ReadonlyArray<string>;
      readonly vpcId: string | null;
    }
  /** This app creates an sst.aws.Vpc (no NAT) with an S3 gateway endpoint. Required by database mode `postgres`. */
  | { readonly mode: "create" };

/** EventBridge Scheduler expression for a recurring schedule (the type sst.aws.CronV2 takes). */
export type ScheduleExpression = `rate(${string})` | `cron(${string})`;

export interface JobSchedule {
  /** EventBridge Scheduler expression, `rate(...)` or `cron(...)`. */
  readonly schedule: ScheduleExpression;
  /** IANA time zone the cron expression is evaluated in. */
  readonly timeZone: string;
  /** The longest gap between two runs, minutes: the heartbeat alarm waits twice this. */
  readonly periodMinutes: number;
}

export interface Settings {
  /** Key prefix for archives in the bucket, no leading slash, ends with `/`. Default `archive/`. */
  readonly archivePrefix: string;
  /** Days after which archives move to `coldStorageClass`. 0 turns the transition off. Default 90. */
  readonly coldStorageDays: number;
  readonly coldStorageClass: ColdStorageClass;
  /** Customer-managed KMS key for SSE-KMS; null means SSE-S3 (AES256). */
  readonly kmsKeyArn: string | null;
  /** Object Lock in governance mode with a default retention, days; null means off. */
  readonly objectLockDays: number | null;
  readonly alarmEmail: string | null;
  /** Schedules of the catalog's scheduled jobs, by job name, after overrides. */
  readonly schedules: Readonly<Record<string, JobSchedule>>;
  readonly database: DatabaseMode;
  readonly vpc: VpcSettings;
  /** CloudWatch namespace of the EMF metrics (POWERTOOLS_METRICS_NAMESPACE). Default `Partkeeper/<stage>`, so two stages in one account never feed each other's alarms. */
  readonly metricsNamespace: string;
  /** POWERTOOLS_SERVICE_NAME; Powertools adds it as the `service` dimension of every metric. */
  readonly serviceName: string;
  readonly architecture: Architecture;
}

/** Thrown when a setting is invalid; the message names the variable and the fix. */
export class SettingsError extends Error {
  override readonly name = "SettingsError";
}

type Env = Readonly<Record<string, string | undefined>>;

/** `refresh-stats` -> `REFRESH_STATS`: the suffix of the per-job variables. */
export function jobEnvSuffix(jobName: string): string {
  return jobName.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/**
 * Reads settings from `env` (normally `process.env`) for the scheduled jobs of `jobs`.
 * Throws SettingsError listing every invalid variable at once.
 */
export function readSettings(env: Env, jobs: ReadonlyArray<JobDefinition>, stage: string): Settings {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === "" ? undefined : value;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}=${raw}: must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (["true", "1", "on", "yes"].includes(raw.toLowerCase())) return true;
    if (["false", "0", "off", "no"].includes(raw.toLowerCase())) return false;
    problems.push(`${name}=${raw}: must be true or false`);
    return fallback;
  };
  const oneOf = <T extends string>(name: string, allowed: ReadonlyArray<T>, fallback: T): T => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if ((allowed as ReadonlyArray<string>).includes(raw)) return raw as T;
    problems.push(`${name}=${raw}: must be one of ${allowed.join(", ")}`);
    return fallback;
  };
  const list = (name: string): string[] =>
    (get(name) ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");

  let archivePrefix = (get("PARTKEEPER_ARCHIVE_PREFIX") ?? "archive/").replace(/^\/+/, "");
  if (archivePrefix !== "" && !archivePrefix.endsWith("/")) archivePrefix += "/";
  if (archivePrefix === "" || /[*?]/.test(archivePrefix)) {
    problems.push(`PARTKEEPER_ARCHIVE_PREFIX: must be a non-empty key prefix without wildcards, e.g. archive/`);
  }

  const coldStorageClass = oneOf("PARTKEEPER_COLD_STORAGE_CLASS", COLD_STORAGE_CLASSES, "GLACIER_IR");
  const coldStorageDays = int("PARTKEEPER_COLD_STORAGE_DAYS", 90, 0, 36_500);
  if (coldStorageClass === "STANDARD_IA" && coldStorageDays > 0 && coldStorageDays < 30) {
    problems.push(`PARTKEEPER_COLD_STORAGE_DAYS=${coldStorageDays}: S3 moves objects to STANDARD_IA after 30 days at the earliest`);
  }

  const kmsKeyArn = get("PARTKEEPER_KMS_KEY_ARN") ?? null;
  if (kmsKeyArn !== null && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(kmsKeyArn)) {
    problems.push(`PARTKEEPER_KMS_KEY_ARN: must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias`);
  }

  const objectLock = bool("PARTKEEPER_OBJECT_LOCK", false);
  const objectLockDays = objectLock ? int("PARTKEEPER_OBJECT_LOCK_DAYS", 365, 1, 36_500) : null;

  const alarmEmail = get("PARTKEEPER_ALARM_EMAIL") ?? null;
  if (alarmEmail !== null && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    problems.push(`PARTKEEPER_ALARM_EMAIL=${alarmEmail}: must be an e-mail address`);
  }

  const defaultTimeZone = get("PARTKEEPER_TIME_ZONE") ?? "UTC";
  if (!isTimeZone(defaultTimeZone)) problems.push(`PARTKEEPER_TIME_ZONE=${defaultTimeZone}: not an IANA time zone such as Europe/Berlin`);

  const schedules: Record<string, JobSchedule> = {};
  for (const job of jobs) {
    if (job.schedule === null) continue;
    const suffix = jobEnvSuffix(job.name);
    const scheduleVar = `PARTKEEPER_SCHEDULE_${suffix}`;
    const schedule = get(scheduleVar) ?? job.schedule;
    if (!/^(rate|cron)\(.+\)$/.test(schedule)) {
      problems.push(`${scheduleVar}=${schedule}: must be rate(...) or cron(...) (EventBridge Scheduler syntax)`);
    }
    const timeZoneVar = `PARTKEEPER_TIME_ZONE_${suffix}`;
    const timeZone = get(timeZoneVar) ?? defaultTimeZone;
    if (!isTimeZone(timeZone)) problems.push(`${timeZoneVar}=${timeZone}: not an IANA time zone such as Europe/Berlin`);
    const periodVar = `PARTKEEPER_PERIOD_MINUTES_${suffix}`;
    let periodMinutes: number | null = get(periodVar) !== undefined ? int(periodVar, 0, 1, 7 * 24 * 60) : null;
    periodMinutes ??= ratePeriodMinutes(schedule);
    if (periodMinutes === null && schedule === job.schedule) periodMinutes = job.periodMinutes;
    if (periodMinutes === null) {
      problems.push(`${periodVar}: required with a cron() override of ${scheduleVar}; the longest gap between runs, minutes`);
      periodMinutes = 60;
    }
    schedules[job.name] = { schedule: schedule as ScheduleExpression, timeZone, periodMinutes };
  }

  const database = oneOf("PARTKEEPER_DATABASE", DATABASE_MODES, "secret");
  const vpcMode = oneOf("PARTKEEPER_VPC", ["off", "existing", "create"] as const, database === "postgres" ? "create" : "off");
  let vpc: VpcSettings;
  if (vpcMode === "existing") {
    const subnetIds = list("PARTKEEPER_VPC_SUBNET_IDS");
    const securityGroupIds = list("PARTKEEPER_VPC_SECURITY_GROUP_IDS");
    if (subnetIds.length === 0) problems.push(`PARTKEEPER_VPC_SUBNET_IDS: required with PARTKEEPER_VPC=existing (comma-separated subnet-... ids)`);
    if (securityGroupIds.length === 0) problems.push(`PARTKEEPER_VPC_SECURITY_GROUP_IDS: required with PARTKEEPER_VPC=existing (comma-separated sg-... ids)`);
    const routeTableIds = list("PARTKEEPER_VPC_ROUTE_TABLE_IDS");
    const vpcId = get("PARTKEEPER_VPC_ID") ?? null;
    if (routeTableIds.length > 0 && vpcId === null) problems.push(`PARTKEEPER_VPC_ID: required with PARTKEEPER_VPC_ROUTE_TABLE_IDS (the S3 gateway endpoint needs it)`);
    vpc = { mode: "existing", subnetIds, securityGroupIds, routeTableIds, vpcId };
  } else {
    vpc = { mode: vpcMode };
  }
  if (database === "postgres" && vpc.mode !== "create") {
    problems.push(`PARTKEEPER_VPC=${vpc.mode}: PARTKEEPER_DATABASE=postgres creates its database in a VPC of this app; use PARTKEEPER_VPC=create (the default for it)`);
  }

  const metricsNamespace = get("PARTKEEPER_METRICS_NAMESPACE") ?? `Partkeeper/${stage}`;
  if (!/^[A-Za-z0-9._\-/#:]{1,255}$/.test(metricsNamespace) || metricsNamespace.startsWith("AWS/")) {
    problems.push(`PARTKEEPER_METRICS_NAMESPACE=${metricsNamespace}: letters, digits and . _ - / # : only, not starting with AWS/`);
  }
  // packages/functions/src/lambda-door.ts currently passes serviceName "partkeeper" to Powertools
  // Metrics, so that is the `service` dimension the alarms must match by default.
  const serviceName = get("PARTKEEPER_SERVICE_NAME") ?? "partkeeper";

  // x86_64 by default: the @duckdb/node-bindings-linux-arm64 build of the locked DuckDB version was
  // not on the npm registry when measured, and npm silently skips a missing optional binding.
  const architecture = oneOf("PARTKEEPER_ARCHITECTURE", ARCHITECTURES, "x86_64");

  if (problems.length > 0) {
    throw new SettingsError(`partkeeper deploy settings are invalid (see docs/deploy.md, "Settings"):\n  ${problems.join("\n  ")}`);
  }
  return Object.freeze({
    archivePrefix,
    coldStorageDays,
    coldStorageClass,
    kmsKeyArn,
    objectLockDays,
    alarmEmail,
    schedules: Object.freeze(schedules),
    database,
    vpc,
    metricsNamespace,
    serviceName,
    architecture,
  });
}

/** Minutes between runs of a `rate(...)` expression, or null for anything else. */
export function ratePeriodMinutes(schedule: string): number | null {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule);
  if (!match) return null;
  const value = Number(match[1]);
  const unit = match[2]!;
  return unit.startsWith("minute") ? value : unit.startsWith("hour") ? value * 60 : value * 24 * 60;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
