/**
 * Deploy-time settings, read from environment variables when `sst deploy` runs, with defaults.
 * PURE: imports nothing from `sst` or Pulumi, so `test/infra/*.test.ts` can check it.
 * Every variable is documented in docs/deploy.md ("Settings"); keep the two in step.
 */
import { IANAZone } from "luxon";
import { z } from "zod";
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
 * Reads settings from `env` (normally `process.env`) for the scheduled jobs of `jobs`; a blank
 * variable counts as unset. Throws SettingsError listing every invalid variable at once.
 */
export function readSettings(env: Env, jobs: ReadonlyArray<JobDefinition>, stage: string): Settings {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value?.trim()) vars[name] = value.trim();
  const result = settingsSchema(jobs, stage).safeParse(vars);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    return `${vars[name] === undefined ? name : `${name}=${vars[name]}`}: ${issue.message}`;
  });
  throw new SettingsError(`partkeeper deploy settings are invalid (see docs/deploy.md, "Settings"):\n  ${problems.join("\n  ")}`);
}

/** Minutes between runs of a `rate(...)` expression, or null for anything else. */
export function ratePeriodMinutes(schedule: string): number | null {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule);
  if (!match) return null;
  const value = Number(match[1]);
  const unit = match[2]!;
  return unit.startsWith("minute") ? value : unit.startsWith("hour") ? value * 60 : value * 24 * 60;
}

const MAX_DAYS = 36_500;
const TRUTHY = ["true", "1", "on", "yes"];
const FALSY = ["false", "0", "off", "no"];

const wholeNumber = (min: number, max: number) =>
  z.string().transform(Number).refine((n) => Number.isInteger(n) && n >= min && n <= max, `must be a whole number from ${min} to ${max}`);
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, `must be one of ${values.join(", ")}`);
// Not z.stringbool: its issue aborts the parse, which would skip the rules between variables.
const flag = z.string().toLowerCase().refine((s) => TRUTHY.includes(s) || FALSY.includes(s), "must be true or false").transform((s) => TRUTHY.includes(s));
const timeZone = z.string().refine((zone) => IANAZone.isValidZone(zone), "not an IANA time zone such as Europe/Berlin");
const idList = z.string().transform((ids) => ids.split(",").map((id) => id.trim()).filter((id) => id !== ""));
const scheduleExpression = z.string().regex(/^(rate|cron)\(.+\)$/, "must be rate(...) or cron(...) (EventBridge Scheduler syntax)");
const objectLockDays = wholeNumber(1, MAX_DAYS).default(365);

/** The schema of the environment variables; its output is the Settings. */
function settingsSchema(jobs: ReadonlyArray<JobDefinition>, stage: string) {
  const scheduled = jobs.flatMap(({ name, schedule, periodMinutes }) => {
    if (schedule === null) return [];
    const suffix = jobEnvSuffix(name);
    const key = { schedule: `PARTKEEPER_SCHEDULE_${suffix}`, timeZone: `PARTKEEPER_TIME_ZONE_${suffix}`, period: `PARTKEEPER_PERIOD_MINUTES_${suffix}` };
    return [{ name, schedule, periodMinutes, key }];
  });
  const jobShape = Object.fromEntries(
    scheduled.flatMap(({ schedule, key }) => [
      [key.schedule, scheduleExpression.prefault(schedule)],
      [key.timeZone, timeZone.optional()],
      [key.period, wholeNumber(1, 7 * 24 * 60).optional()],
    ]),
  );
  const variables = z.object({
    PARTKEEPER_ARCHIVE_PREFIX: z
      .string()
      .default("archive/")
      .transform((prefix) => prefix.replace(/^\/+/, "").replace(/([^/])$/, "$1/"))
      .refine((prefix) => prefix !== "" && !/[*?]/.test(prefix), "must be a non-empty key prefix without wildcards, e.g. archive/"),
    PARTKEEPER_COLD_STORAGE_CLASS: oneOf(COLD_STORAGE_CLASSES).default("GLACIER_IR"),
    PARTKEEPER_COLD_STORAGE_DAYS: wholeNumber(0, MAX_DAYS).default(90),
    PARTKEEPER_KMS_KEY_ARN: z
      .string()
      .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, "must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias")
      .optional(),
    PARTKEEPER_OBJECT_LOCK: flag.default(false),
    // Read, and so checked, only with object lock on.
    PARTKEEPER_OBJECT_LOCK_DAYS: z.string().optional(),
    PARTKEEPER_ALARM_EMAIL: z.string().regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, "must be an e-mail address").optional(),
    PARTKEEPER_TIME_ZONE: timeZone.default("UTC"),
    PARTKEEPER_DATABASE: oneOf(DATABASE_MODES).default("secret"),
    PARTKEEPER_VPC: oneOf(["off", "existing", "create"]).optional(),
    PARTKEEPER_VPC_SUBNET_IDS: idList.default([]),
    PARTKEEPER_VPC_SECURITY_GROUP_IDS: idList.default([]),
    PARTKEEPER_VPC_ROUTE_TABLE_IDS: idList.default([]),
    PARTKEEPER_VPC_ID: z.string().optional(),
    PARTKEEPER_METRICS_NAMESPACE: z
      .string()
      .refine((ns) => /^[A-Za-z0-9._\-/#:]{1,255}$/.test(ns) && !ns.startsWith("AWS/"), "letters, digits and . _ - / # : only, not starting with AWS/")
      .prefault(`Partkeeper/${stage}`),
    // packages/functions/src/lambda-door.ts currently passes serviceName "partkeeper" to Powertools
    // Metrics, so that is the `service` dimension the alarms must match by default.
    PARTKEEPER_SERVICE_NAME: z.string().default("partkeeper"),
    // x86_64 by default: the @duckdb/node-bindings-linux-arm64 build of the locked DuckDB version was
    // not on the npm registry when measured, and npm silently skips a missing optional binding.
    PARTKEEPER_ARCHITECTURE: oneOf(ARCHITECTURES).default("x86_64"),
    // The per-job keys come from the catalog, so TypeScript cannot see them: `perJob` reads them.
    ...(jobShape as object),
  });
  type Variables = z.output<typeof variables>;
  const perJob = (v: Variables): Readonly<Record<string, unknown>> => v;
  const periodMinutes = (v: Variables, job: (typeof scheduled)[number]): number | null => {
    const schedule = perJob(v)[job.key.schedule] as string;
    return (perJob(v)[job.key.period] as number | undefined) ?? ratePeriodMinutes(schedule) ?? (schedule === job.schedule ? job.periodMinutes : null);
  };
  const vpcMode = (v: Variables) => v.PARTKEEPER_VPC ?? (v.PARTKEEPER_DATABASE === "postgres" ? "create" : "off");

  // The rules between variables run even when some variables are invalid, so that every problem is
  // listed at once; each rule reads only variables without a problem of their own.
  const withRules = variables.superRefine(
    (v, ctx) => {
      const valid = (...names: string[]) => !ctx.issues.some((issue) => names.includes(String(issue.path?.[0])));
      const problem = (variable: string, message: string): void => ctx.addIssue({ code: "custom", path: [variable], message });
      const days = v.PARTKEEPER_COLD_STORAGE_DAYS;
      if (valid("PARTKEEPER_COLD_STORAGE_CLASS", "PARTKEEPER_COLD_STORAGE_DAYS") && v.PARTKEEPER_COLD_STORAGE_CLASS === "STANDARD_IA" && days > 0 && days < 30) {
        problem("PARTKEEPER_COLD_STORAGE_DAYS", "S3 moves objects to STANDARD_IA after 30 days at the earliest");
      }
      if (valid("PARTKEEPER_OBJECT_LOCK") && v.PARTKEEPER_OBJECT_LOCK) {
        for (const issue of objectLockDays.safeParse(v.PARTKEEPER_OBJECT_LOCK_DAYS).error?.issues ?? []) problem("PARTKEEPER_OBJECT_LOCK_DAYS", issue.message);
      }
      for (const job of scheduled) {
        if (valid(job.key.schedule, job.key.period) && periodMinutes(v, job) === null) {
          problem(job.key.period, `required with a cron() override of ${job.key.schedule}; the longest gap between runs, minutes`);
        }
      }
      if (valid("PARTKEEPER_VPC") && v.PARTKEEPER_VPC === "existing") {
        if (v.PARTKEEPER_VPC_SUBNET_IDS.length === 0) problem("PARTKEEPER_VPC_SUBNET_IDS", "required with PARTKEEPER_VPC=existing (comma-separated subnet-... ids)");
        if (v.PARTKEEPER_VPC_SECURITY_GROUP_IDS.length === 0) problem("PARTKEEPER_VPC_SECURITY_GROUP_IDS", "required with PARTKEEPER_VPC=existing (comma-separated sg-... ids)");
        if (v.PARTKEEPER_VPC_ROUTE_TABLE_IDS.length > 0 && v.PARTKEEPER_VPC_ID === undefined) {
          problem("PARTKEEPER_VPC_ID", "required with PARTKEEPER_VPC_ROUTE_TABLE_IDS (the S3 gateway endpoint needs it)");
        }
      }
      if (valid("PARTKEEPER_DATABASE", "PARTKEEPER_VPC") && v.PARTKEEPER_DATABASE === "postgres" && vpcMode(v) !== "create") {
        problem("PARTKEEPER_VPC", "PARTKEEPER_DATABASE=postgres creates its database in a VPC of this app; use PARTKEEPER_VPC=create (the default for it)");
      }
    },
    { when: () => true },
  );

  return withRules.transform((v): Settings => {
    const schedules: Record<string, JobSchedule> = {};
    for (const job of scheduled) {
      const timeZone = (perJob(v)[job.key.timeZone] as string | undefined) ?? v.PARTKEEPER_TIME_ZONE;
      schedules[job.name] = { schedule: perJob(v)[job.key.schedule] as ScheduleExpression, timeZone, periodMinutes: periodMinutes(v, job)! };
    }
    const mode = vpcMode(v);
    const ids = { subnetIds: v.PARTKEEPER_VPC_SUBNET_IDS, securityGroupIds: v.PARTKEEPER_VPC_SECURITY_GROUP_IDS, routeTableIds: v.PARTKEEPER_VPC_ROUTE_TABLE_IDS };
    const vpc: VpcSettings = mode === "existing" ? { mode, ...ids, vpcId: v.PARTKEEPER_VPC_ID ?? null } : { mode };
    return Object.freeze({
      archivePrefix: v.PARTKEEPER_ARCHIVE_PREFIX,
      coldStorageDays: v.PARTKEEPER_COLD_STORAGE_DAYS,
      coldStorageClass: v.PARTKEEPER_COLD_STORAGE_CLASS,
      kmsKeyArn: v.PARTKEEPER_KMS_KEY_ARN ?? null,
      objectLockDays: v.PARTKEEPER_OBJECT_LOCK ? objectLockDays.parse(v.PARTKEEPER_OBJECT_LOCK_DAYS) : null,
      alarmEmail: v.PARTKEEPER_ALARM_EMAIL ?? null,
      schedules: Object.freeze(schedules),
      database: v.PARTKEEPER_DATABASE,
      vpc,
      metricsNamespace: v.PARTKEEPER_METRICS_NAMESPACE,
      serviceName: v.PARTKEEPER_SERVICE_NAME,
      architecture: v.PARTKEEPER_ARCHITECTURE,
    });
  });
}
