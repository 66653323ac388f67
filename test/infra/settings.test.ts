import { describe, expect, it } from "vitest";
import { JOBS } from "../../packages/core/src/jobs.ts";
import { jobEnvSuffix, ratePeriodMinutes, readSettings, SettingsError } from "../../infra/lib/settings.ts";


describe("readSettings", () => {
  it("has defaults for every setting and a schedule per scheduled catalog job", () => {
    const s = readSettings({}, JOBS, "production");
    expect(s).toMatchObject({
      archivePrefix: "archive/",
      coldStorageDays: 90,
      coldStorageClass: "GLACIER_IR",
      kmsKeyArn: null,
      objectLockDays: null,
      alarmEmail: null,
      database: "secret",
      vpc: { mode: "off" },
      metricsNamespace: "Partkeeper/production",
      serviceName: "partkeeper",
      architecture: "x86_64",
    });
    const scheduled = JOBS.filter((j) => j.schedule !== null);
    expect(Object.keys(s.schedules).sort()).toEqual(scheduled.map((j) => j.name).sort());
    for (const job of scheduled) {
      expect(s.schedules[job.name]).toEqual({ schedule: job.schedule, timeZone: "UTC", periodMinutes: job.periodMinutes });
    }
  });

  it("overrides schedule and time zone per job, deriving the period from rate()", () => {
    const s = readSettings(
      { PARTKEEPER_SCHEDULE_MAINTAIN: "rate(15 minutes)", PARTKEEPER_TIME_ZONE: "Europe/Berlin", PARTKEEPER_TIME_ZONE_ARCHIVE: "America/New_York" },
      JOBS,
      "staging",
    );
    expect(s.schedules.maintain).toEqual({ schedule: "rate(15 minutes)", timeZone: "Europe/Berlin", periodMinutes: 15 });
    expect(s.schedules.archive?.timeZone).toBe("America/New_York");
  });

  it("requires a period with a cron() override, and uses it", () => {
    expect(() => readSettings({ PARTKEEPER_SCHEDULE_ARCHIVE: "cron(0 4 ? * MON *)" }, JOBS, "p")).toThrow(/PARTKEEPER_PERIOD_MINUTES_ARCHIVE/);
    const s = readSettings({ PARTKEEPER_SCHEDULE_ARCHIVE: "cron(0 4 ? * MON *)", PARTKEEPER_PERIOD_MINUTES_ARCHIVE: "10080" }, JOBS, "p");
    expect(s.schedules.archive?.periodMinutes).toBe(10080);
  });

  it("names per-job variables after the job (migrate, refresh-stats)", () => {
    expect(jobEnvSuffix("refresh-stats")).toBe("REFRESH_STATS");
    const s = readSettings({ PARTKEEPER_SCHEDULE_REFRESH_STATS: "rate(6 hours)", PARTKEEPER_SCHEDULE_MIGRATE: "rate(5 minutes)" }, JOBS, "p");
    expect(s.schedules["refresh-stats"]).toEqual({ schedule: "rate(6 hours)", timeZone: "UTC", periodMinutes: 360 });
    expect(s.schedules.migrate).toEqual({ schedule: "rate(5 minutes)", timeZone: "UTC", periodMinutes: 5 });
  });

  it("lists every invalid variable at once", () => {
    let error: unknown;
    try {
      readSettings(
        {
          PARTKEEPER_SCHEDULE_MAINTAIN: "every hour",
          PARTKEEPER_TIME_ZONE: "Mars/Olympus",
          PARTKEEPER_COLD_STORAGE_CLASS: "DEEP_ARCHIVE",
          PARTKEEPER_KMS_KEY_ARN: "alias/mine",
          PARTKEEPER_OBJECT_LOCK: "maybe",
          PARTKEEPER_ARCHITECTURE: "riscv",
        },
        JOBS,
        "p",
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettingsError);
    const message = (error as Error).message;
    for (const name of ["PARTKEEPER_SCHEDULE_MAINTAIN", "PARTKEEPER_TIME_ZONE", "PARTKEEPER_COLD_STORAGE_CLASS", "PARTKEEPER_KMS_KEY_ARN", "PARTKEEPER_OBJECT_LOCK", "PARTKEEPER_ARCHITECTURE"]) {
      expect(message).toContain(name);
    }
  });

  it("reads object lock, KMS, VPC and database modes", () => {
    const s = readSettings(
      {
        PARTKEEPER_OBJECT_LOCK: "true",
        PARTKEEPER_OBJECT_LOCK_DAYS: "3650",
        PARTKEEPER_KMS_KEY_ARN: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        PARTKEEPER_ARCHIVE_PREFIX: "/pk/archive",
        PARTKEEPER_VPC: "existing",
        PARTKEEPER_VPC_SUBNET_IDS: "subnet-1, subnet-2",
        PARTKEEPER_VPC_SECURITY_GROUP_IDS: "sg-1",
      },
      JOBS,
      "p",
    );
    expect(s.objectLockDays).toBe(3650);
    expect(s.archivePrefix).toBe("pk/archive/");
    expect(s.vpc).toEqual({ mode: "existing", subnetIds: ["subnet-1", "subnet-2"], securityGroupIds: ["sg-1"], routeTableIds: [], vpcId: null });
    expect(readSettings({ PARTKEEPER_DATABASE: "postgres" }, JOBS, "p").vpc).toEqual({ mode: "create" });
    expect(() => readSettings({ PARTKEEPER_DATABASE: "postgres", PARTKEEPER_VPC: "off" }, JOBS, "p")).toThrow(/PARTKEEPER_VPC=off/);
    expect(() => readSettings({ PARTKEEPER_VPC: "existing" }, JOBS, "p")).toThrow(/PARTKEEPER_VPC_SUBNET_IDS/);
  });

  it("derives periods from rate expressions only", () => {
    expect(ratePeriodMinutes("rate(1 hour)")).toBe(60);
    expect(ratePeriodMinutes("rate(2 days)")).toBe(2880);
    expect(ratePeriodMinutes("rate(5 minutes)")).toBe(5);
    expect(ratePeriodMinutes("cron(0 * * * ? *)")).toBeNull();
  });
});
