/**
 * The CloudWatch alarms partkeeper deploys, as plain data; infra/alarms.ts turns each into one
 * aws.cloudwatch.MetricAlarm. PURE: no `sst`/Pulumi imports.
 *
 * Metric contract with the handlers (packages/functions): Powertools Metrics always adds the
 * `service` dimension (POWERTOOLS_SERVICE_NAME), so the job metrics alarmed on here must be emitted
 * with exactly the dimension set {service, Job}. Per-parent values (dimension Parent) may be emitted
 * as well, but the alarms watch the per-job aggregate: PartitionsAheadMin is the minimum over
 * parents, DefaultPartitionRows the total, ArchiveVerificationFailed the count.
 */
import { DEADLINE_MARGIN_MS } from "../../packages/core/src/jobs.ts";
import type { JobSpec } from "./job-specs.ts";

export type ComparisonOperator =
  | "GreaterThanOrEqualToThreshold"
  | "GreaterThanThreshold"
  | "LessThanThreshold"
  | "LessThanOrEqualToThreshold";
export type TreatMissingData = "breaching" | "notBreaching" | "ignore" | "missing";

/** Which resource the dimensions point at; infra fills in the deployed names. */
export type AlarmTarget =
  | { readonly kind: "function"; readonly job: string }
  | { readonly kind: "dead-letter-queue" }
  | { readonly kind: "job-metric"; readonly dimensions: Readonly<Record<string, string>> };

export interface AlarmSpec {
  /** Unique Pascal-case key, used as the Pulumi resource name. */
  readonly key: string;
  /** CloudWatch alarm name, `<app>-<stage>-<what>`. */
  readonly name: string;
  /** What it means and where the runbook is (docs/deploy.md). */
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly target: AlarmTarget;
  readonly statistic: "Sum" | "Maximum" | "Minimum";
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly comparisonOperator: ComparisonOperator;
  readonly threshold: number;
  /** `min-premake`: the threshold is the smallest premake in the config (known only at deploy). */
  readonly thresholdFrom?: "min-premake";
  readonly treatMissingData: TreatMissingData;
  /** Anchor of the runbook section in docs/deploy.md. */
  readonly runbook: string;
}

export interface AlarmOptions {
  /** `<app>-<stage>` */
  readonly prefix: string;
  readonly metricsNamespace: string;
  readonly serviceName: string;
}

/** CloudWatch: period x evaluation periods at most 7 days, and at most 1 day when the period is under an hour. */
export const MAX_ALARM_WINDOW_SECONDS = 7 * 24 * 3600;
const FIVE_MINUTES = 300;

/** Job metrics alarmed per job; the job's handler must emit them with dimensions {service, Job}. */
const JOB_METRIC_ALARMS: Readonly<Record<string, ReadonlyArray<Omit<AlarmSpec, "key" | "name" | "namespace" | "target" | "periodSeconds" | "evaluationPeriods" | "treatMissingData"> & { suffix: string }>>> = {
  maintain: [
    {
      suffix: "PartitionsAhead",
      metricName: "PartitionsAheadMin",
      statistic: "Minimum",
      comparisonOperator: "LessThanThreshold",
      threshold: 0,
      thresholdFrom: "min-premake",
      description: "A managed parent has fewer future partitions than the smallest configured premake: inserts may soon land in the default partition or fail.",
      runbook: "partitions-ahead",
    },
    {
      suffix: "DefaultPartitionRows",
      metricName: "DefaultPartitionRows",
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      description: "Rows sit in a default partition: they block creating the partition their range belongs to.",
      runbook: "default-partition-rows",
    },
  ],
  archive: [
    {
      suffix: "VerificationFailed",
      metricName: "ArchiveVerificationFailed",
      statistic: "Sum",
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      description: "An uploaded archive did not match its partition when read back; the partition was kept, not dropped.",
      runbook: "archive-verification-failed",
    },
  ],
  "refresh-stats": [
    {
      suffix: "MaterializedViewRefreshFailed",
      metricName: "MaterializedViewRefreshFailed",
      statistic: "Sum",
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      description: "A configured materialized view could not be refreshed (missing, not a materialized view, no unique index for CONCURRENTLY, lock timeout, an error of its query): it is going stale.",
      runbook: "materialized-view-refresh-failed",
    },
  ],
};

export function alarmSpecs(jobs: ReadonlyArray<JobSpec>, options: AlarmOptions): AlarmSpec[] {
  const specs: AlarmSpec[] = [];
  for (const job of jobs) {
    const fn = { kind: "function", job: job.name } as const;
    const base = { namespace: "AWS/Lambda", target: fn, periodSeconds: FIVE_MINUTES, evaluationPeriods: 1, treatMissingData: "notBreaching" } as const;
    specs.push(
      {
        ...base,
        key: `${job.resourceName}Errors`,
        name: `${options.prefix}-${job.name}-errors`,
        description: `${job.name}: the function failed (Lambda Errors >= 1).`,
        metricName: "Errors",
        statistic: "Sum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        runbook: "function-errors",
      },
      {
        ...base,
        key: `${job.resourceName}Throttles`,
        name: `${options.prefix}-${job.name}-throttles`,
        description: `${job.name}: an invocation was throttled (Throttles >= 1), usually a run overlapping the previous one.`,
        metricName: "Throttles",
        statistic: "Sum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        runbook: "function-throttles",
      },
      {
        ...base,
        key: `${job.resourceName}Duration`,
        name: `${options.prefix}-${job.name}-duration`,
        description: `${job.name}: a run ended within ${DEADLINE_MARGIN_MS / 2000} s of its ${job.timeoutSeconds} s timeout: a step overran the job's deadline (${DEADLINE_MARGIN_MS / 1000} s before the timeout).`,
        metricName: "Duration",
        statistic: "Maximum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: job.timeoutSeconds * 1000 - DEADLINE_MARGIN_MS / 2,
        runbook: "function-duration",
      },
    );
    if (job.schedule === null) continue;

    const heartbeatSeconds = 2 * job.schedule.periodMinutes * 60;
    if (heartbeatSeconds > MAX_ALARM_WINDOW_SECONDS) {
      throw new Error(
        `job ${job.name}: runs every ${job.schedule.periodMinutes} minutes, so its heartbeat alarm would need ${heartbeatSeconds} s; CloudWatch allows ${MAX_ALARM_WINDOW_SECONDS} s. Schedule it at least every 3.5 days.`,
      );
    }
    const jobDimensions = { service: options.serviceName, Job: job.name };
    specs.push({
      key: `${job.resourceName}Heartbeat`,
      name: `${options.prefix}-${job.name}-heartbeat`,
      description: `${job.name}: no successful run (JobSucceeded) in ${2 * job.schedule.periodMinutes} minutes, twice its schedule. Missing data counts as breaching.`,
      namespace: options.metricsNamespace,
      metricName: "JobSucceeded",
      target: { kind: "job-metric", dimensions: jobDimensions },
      statistic: "Sum",
      periodSeconds: heartbeatSeconds,
      evaluationPeriods: 1,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
      runbook: "heartbeat",
    });
    const metricPeriod = Math.max(FIVE_MINUTES, Math.min(job.schedule.periodMinutes * 60, 24 * 3600));
    for (const { suffix, ...alarm } of JOB_METRIC_ALARMS[job.name] ?? []) {
      specs.push({
        ...alarm,
        key: `${job.resourceName}${suffix}`,
        name: `${options.prefix}-${job.name}-${kebabCase(suffix)}`,
        namespace: options.metricsNamespace,
        target: { kind: "job-metric", dimensions: jobDimensions },
        periodSeconds: metricPeriod,
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
      });
    }
  }
  specs.push({
    key: "DeadLetterQueueDepth",
    name: `${options.prefix}-dead-letter-queue`,
    description: "A job's async invocation failed after its retries (or was too old to run) and is waiting in the dead-letter queue.",
    namespace: "AWS/SQS",
    metricName: "ApproximateNumberOfMessagesVisible",
    target: { kind: "dead-letter-queue" },
    statistic: "Maximum",
    periodSeconds: FIVE_MINUTES,
    evaluationPeriods: 1,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    threshold: 1,
    treatMissingData: "notBreaching",
    runbook: "dead-letter-queue",
  });
  return specs;
}

/** Smallest premake over range tables, the PartitionsAheadMin threshold; 0 (never fires) without any. */
export function minPremake(tables: ReadonlyArray<{ readonly strategy: string; readonly premake?: number }>): number {
  const premakes = tables.filter((t) => t.strategy === "range-time" || t.strategy === "range-integer").map((t) => t.premake ?? 0);
  return premakes.length === 0 ? 0 : Math.min(...premakes);
}

function kebabCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}
