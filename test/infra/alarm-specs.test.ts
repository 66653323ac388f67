import { describe, expect, it } from "vitest";
import { JOBS } from "../../packages/core/src/jobs.ts";
import { alarmSpecs, MAX_ALARM_WINDOW_SECONDS, minPremake } from "../../infra/lib/alarm-specs.ts";
import { archiveUrl, postgresUrl, prepareConfig } from "../../infra/lib/deploy-config.ts";
import { jobSpecs } from "../../infra/lib/job-specs.ts";
import { readSettings } from "../../infra/lib/settings.ts";
import { DEADLINE_MARGIN_MS } from "../../packages/core/src/jobs.ts";

const options = { prefix: "partkeeper-production", metricsNamespace: "Partkeeper", serviceName: "partkeeper-production" };
const specs = jobSpecs(JOBS, readSettings({}, JOBS, "production"), { name: "partkeeper", stage: "production" });
const alarms = alarmSpecs(specs, options);
const byKey = Object.fromEntries(alarms.map((a) => [a.key, a]));

describe("alarmSpecs", () => {
  it("has unique keys and names, and periods CloudWatch accepts", () => {
    expect(new Set(alarms.map((a) => a.key)).size).toBe(alarms.length);
    expect(new Set(alarms.map((a) => a.name)).size).toBe(alarms.length);
    for (const a of alarms) {
      expect(a.periodSeconds % 60, a.key).toBe(0);
      const window = a.periodSeconds * a.evaluationPeriods;
      expect(window, a.key).toBeLessThanOrEqual(a.periodSeconds < 3600 ? 86_400 : MAX_ALARM_WINDOW_SECONDS);
      expect(a.description.length + 60, a.key).toBeLessThan(1024);
    }
  });

  it("alarms on Lambda errors >= 1, throttles >= 1 and duration near the timeout for every function", () => {
    for (const spec of specs) {
      expect(byKey[`${spec.resourceName}Errors`]).toMatchObject({ namespace: "AWS/Lambda", metricName: "Errors", comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1, target: { kind: "function", job: spec.name } });
      expect(byKey[`${spec.resourceName}Throttles`]).toMatchObject({ metricName: "Throttles", threshold: 1 });
      expect(byKey[`${spec.resourceName}Duration`]).toMatchObject({ metricName: "Duration", statistic: "Maximum", threshold: spec.timeoutSeconds * 1000 - 45_000 });
    }
  });

  it("has a heartbeat per scheduled job: no JobSucceeded within twice the schedule, missing data breaching", () => {
    expect(byKey.MaintainHeartbeat).toMatchObject({
      namespace: "Partkeeper",
      metricName: "JobSucceeded",
      target: { kind: "job-metric", dimensions: { service: "partkeeper-production", Job: "maintain" } },
      statistic: "Sum",
      periodSeconds: 2 * 60 * 60,
      evaluationPeriods: 1,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    });
    expect(byKey.ArchiveHeartbeat?.periodSeconds).toBe(2 * 24 * 3600);
    expect(byKey.MigrateHeartbeat?.periodSeconds).toBe(2 * 15 * 60);
    expect(byKey.RestoreHeartbeat).toBeUndefined();
  });

  it("leaves a run that stops at its deadline (a long backfill, every 15 minutes) under the Duration alarm", () => {
    // Jobs stop starting work DEADLINE_MARGIN_MS before the timeout: normal for a backlog, not an alarm.
    expect(byKey.MigrateDuration!.threshold).toBeGreaterThan(900_000 - DEADLINE_MARGIN_MS + 30_000);
  });

  it("alarms on the job metrics: partitions ahead below premake, default partition rows, archive verification", () => {
    expect(byKey.MaintainPartitionsAhead).toMatchObject({ metricName: "PartitionsAheadMin", statistic: "Minimum", comparisonOperator: "LessThanThreshold", thresholdFrom: "min-premake" });
    expect(byKey.MaintainDefaultPartitionRows).toMatchObject({ metricName: "DefaultPartitionRows", comparisonOperator: "GreaterThanThreshold", threshold: 0 });
    expect(byKey.ArchiveVerificationFailed).toMatchObject({ metricName: "ArchiveVerificationFailed", comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1 });
  });

  it("alarms on dead-letter queue depth >= 1", () => {
    expect(byKey.DeadLetterQueueDepth).toMatchObject({ namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", threshold: 1, target: { kind: "dead-letter-queue" } });
  });

  it("refuses a heartbeat longer than CloudWatch's 7-day window", () => {
    const weekly = jobSpecs(JOBS, readSettings({ PARTKEEPER_SCHEDULE_ARCHIVE: "rate(7 days)" }, JOBS, "p"), { name: "partkeeper", stage: "p" });
    expect(() => alarmSpecs(weekly, options)).toThrow(/at least every 3.5 days/);
  });
});

describe("deploy config", () => {
  const config = { tables: [
    { table: "events", strategy: "range-time", interval: "month", premake: 3, retention: "6 months" },
    { table: "ticks", strategy: "range-integer", step: 1000, premake: 8 },
    { table: "by_region", strategy: "list", values: ["eu"] },
  ] };

  it("validates the config with core's schema against this stage's archive and derives the premake threshold", () => {
    const prepared = prepareConfig(JSON.stringify(config, null, 2), archiveUrl("pk-archive", "archive/"));
    expect(prepared.minPremake).toBe(3);
    expect(JSON.parse(prepared.json)).toEqual(config);
    expect(prepared.json).not.toContain("\n");
  });

  it("fails the deploy with the field path of a bad config", () => {
    expect(() => prepareConfig(JSON.stringify({ tables: [{ table: "t", strategy: "range-time", interval: "fortnight" }] }), "s3://pk-archive/archive")).toThrow(/tables\.0\.interval/);
    expect(() => prepareConfig("{not json", "s3://pk-archive/archive")).toThrow(/not JSON/);
  });

  it("derives 0 (never fires) without range tables", () => {
    expect(minPremake([{ strategy: "hash" }])).toBe(0);
  });

  it("builds URLs", () => {
    expect(archiveUrl("b", "a/b/")).toBe("s3://b/a/b");
    expect(postgresUrl({ username: "u", password: "p@ss/word", host: "h", port: 5432, database: "d" })).toBe("postgres://u:p%40ss%2Fword@h:5432/d?sslmode=require");
  });
});
