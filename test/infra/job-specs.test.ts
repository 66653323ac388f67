import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { JOBS } from "../../packages/core/src/jobs.ts";
import { alarmSpecs } from "../../infra/lib/alarm-specs.ts";
import {
  assertEnvironmentFits,
  environmentBytes,
  jobSpecs,
  LAMBDA_MAX_TIMEOUT_SECONDS,
  nativeInstall,
} from "../../infra/lib/job-specs.ts";
import { readSettings } from "../../infra/lib/settings.ts";

const APP = { name: "partkeeper", stage: "production" };
const specs = jobSpecs(JOBS, readSettings({}, JOBS, APP.stage), APP);
const alarms = alarmSpecs(specs, { prefix: "partkeeper-production", metricsNamespace: "Partkeeper", serviceName: "partkeeper-production" });

describe("jobSpecs over the job catalog", () => {
  it("builds one function per catalog job, named <app>-<stage>-<job>", () => {
    expect(specs.map((s) => s.functionName)).toEqual(JOBS.map((j) => `partkeeper-production-${j.name}`));
  });

  it("has the lifecycle jobs, migrate and refresh-stats scheduled, restore on demand", () => {
    const byName = Object.fromEntries(specs.map((s) => [s.name, s]));
    expect(specs.map((s) => s.name)).toEqual(["maintain", "archive", "restore", "migrate", "refresh-stats"]);
    expect(byName.maintain?.schedule?.schedule).toBe("rate(1 hour)");
    expect(byName.archive?.schedule?.schedule).toMatch(/^cron\(/);
    expect(byName.restore?.schedule).toBeNull();
    expect(byName.restore?.event).toBeNull();
    expect(byName.migrate).toMatchObject({
      schedule: { schedule: "rate(15 minutes)", periodMinutes: 15 },
      event: { job: "migrate" },
      handler: "packages/functions/src/migrate.handler",
      timeoutSeconds: 900,
      memoryMb: 1024,
      archiveAccess: "none",
      reservedConcurrency: 1,
      maxEventAgeSeconds: 900,
    });
  });

  for (const spec of specs) {
    describe(spec.name, () => {
      it("has a timeout within Lambda's limit and a dead-letter queue with bounded retries", () => {
        expect(spec.timeoutSeconds).toBeGreaterThan(0);
        expect(spec.timeoutSeconds).toBeLessThanOrEqual(LAMBDA_MAX_TIMEOUT_SECONDS);
        expect(spec.deadLetterQueue).toBe(true);
        expect(spec.asyncRetries).toBeGreaterThanOrEqual(0);
        expect(spec.asyncRetries).toBeLessThanOrEqual(2);
        expect(spec.maxEventAgeSeconds).toBeGreaterThanOrEqual(60);
        expect(spec.maxEventAgeSeconds).toBeLessThanOrEqual(21_600);
      });

      if (spec.schedule !== null) {
        it("is scheduled with reserved concurrency 1, its own event, and a full alarm set", () => {
          expect(spec.schedule!.schedule).toMatch(/^(rate|cron)\(.+\)$/);
          expect(spec.reservedConcurrency).toBe(1);
          expect(spec.event).toEqual({ job: spec.name });
          // A failed run is retried at most once (Lambda waits 1 min), never in a tight loop.
          expect(spec.asyncRetries).toBe(1);
          // A stale event is dropped instead of piling up behind the concurrency limit.
          expect(spec.maxEventAgeSeconds).toBeLessThanOrEqual(Math.max(60, spec.schedule!.periodMinutes * 60));
          const kinds = alarms.filter((a) => a.key.startsWith(spec.resourceName)).map((a) => a.key.slice(spec.resourceName.length));
          expect(kinds).toEqual(expect.arrayContaining(["Errors", "Throttles", "Duration", "Heartbeat"]));
        });
      } else {
        it("is on demand: no concurrency cap, no retries", () => {
          expect(spec.reservedConcurrency).toBeNull();
          expect(spec.asyncRetries).toBe(0);
        });
      }
    });
  }

  it("schedules refresh-stats daily after the archive job, one run at a time, without S3", () => {
    expect(specs.find((s) => s.name === "refresh-stats")).toMatchObject({
      resourceName: "RefreshStats",
      schedule: { schedule: "cron(30 4 * * ? *)", periodMinutes: 1440 },
      event: { job: "refresh-stats" },
      handler: "packages/functions/src/refresh-stats.handler",
      archiveAccess: "none",
      reservedConcurrency: 1,
    });
  });

  it("rejects a timeout above Lambda's 900 s and over-long function names", () => {
    const bad = [{ ...JOBS[0], timeoutSeconds: 901 }];
    expect(() => jobSpecs(bad, readSettings({}, bad, "p"), { name: "partkeeper", stage: "p" })).toThrow(/900/);
    expect(() => jobSpecs(JOBS, readSettings({}, JOBS, "p"), { name: "partkeeper", stage: "x".repeat(60) })).toThrow(/shorter stage/);
  });
});

describe("nativeInstall", () => {
  it("pins @duckdb/node-api to the exact version in package-lock.json", () => {
    const lock = JSON.parse(readFileSync(new URL("../../package-lock.json", import.meta.url), "utf8"));
    const install = nativeInstall(lock);
    expect(Object.keys(install)).toEqual(["@duckdb/node-api"]);
    expect(install["@duckdb/node-api"]).toMatch(/^\d+\.\d+\.\d+/);
    expect(install["@duckdb/node-api"]).toBe(lock.packages["node_modules/@duckdb/node-api"].version);
  });

  it("fails clearly when the package is not locked", () => {
    expect(() => nativeInstall({ packages: {} })).toThrow(/@duckdb\/node-api is not in package-lock.json/);
  });
});

describe("environment size", () => {
  it("counts keys and values and rejects more than 4 KB", () => {
    expect(environmentBytes({ AB: "cd" })).toBe(4);
    expect(() => assertEnvironmentFits("f", { PARTKEEPER_CONFIG: "x".repeat(4100) })).toThrow(/largest variable is PARTKEEPER_CONFIG/);
  });
});
