import { describe, expect, it } from "vitest";
import { readHealth, runJob, runRefreshStats, type ConfigInput, type ParentHealth } from "@partkeeper/core";
import { createTestDatabase, eventually, useTestS3 } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";

/**
 * The health views (migration 0006) and readHealth on fixtures with known answers, at the test
 * clock (2026-11-21 12:00 UTC): rows in a default partition, a single partition ahead, expired
 * partitions not archived (then archived), a parent whose last run failed, one that is missing, and
 * one that is not partitioned.
 */

const NOW = new Date("2026-11-21T12:00:00Z");

describe("health views", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();
  await sql.unsafe(`
    create table with_default (id bigint, at timestamptz not null) partition by range (at);
    create table one_ahead (id bigint, at timestamptz not null) partition by range (at);
    create table expiring (id bigint, at timestamptz not null) partition by range (at);
    create table failing (id bigint, at timestamptz not null) partition by range (at);
    create table not_partitioned (id bigint);
  `);
  // Expired by a 3-month retention at 2026-11-21: January to July (upper bound on or before 2026-08-21).
  for (let month = 1; month <= 10; month++) {
    const from = `2026-${String(month).padStart(2, "0")}-01`;
    const to = month === 12 ? "2027-01-01" : `2026-${String(month + 1).padStart(2, "0")}-01`;
    await sql.unsafe(`create table expiring_p2026_${String(month).padStart(2, "0")} partition of expiring for values from ('${from}') to ('${to}')`);
  }
  await sql`insert into expiring select g, timestamptz '2026-01-01' + g * interval '1 hour' from generate_series(1, 5000) g`;
  const month = { strategy: "range-time", interval: "month" } as const;
  const tables: ConfigInput["tables"] = [
    { table: "with_default", ...month, premake: 2 },
    { table: "one_ahead", ...month, premake: 1, defaultPartition: false },
    { table: "expiring", ...month, premake: 1, retention: "3 months" },
    // Its key is a timestamp: a range-integer policy fails every run, naming the mismatch.
    { table: "failing", strategy: "range-integer", step: 1000, premake: 1 },
    { table: "missing", ...month },
    { table: "not_partitioned", ...month },
  ];
  const ctx = await testJobContext(url, { archive: { location }, tables }, { now: NOW });
  const parentOf = (report: { parents: ReadonlyArray<ParentHealth> }, name: string) => report.parents.find((p) => p.parent.name === name)!;

  it("before any run: every configured parent is listed, with the problem that nothing recorded it yet", async () => {
    const report = await readHealth(ctx);
    expect(report.parents).toHaveLength(6);
    expect(report.parents.every((p) => p.problem?.startsWith("no partkeeper job has run on it yet"))).toBe(true);
  });

  it("after maintain: default-partition rows, partitions ahead, expired partitions, failed runs and problems, with states per partition", async () => {
    const maintain = await runJob(ctx, { job: "maintain", dryRun: false });
    expect(maintain.parents.find((p) => p.parent.name === "failing")?.status).toBe("failed");
    await sql`insert into with_default values (1, '2031-01-01'), (2, '2031-02-01'), (3, '2019-01-01')`;

    const report = await readHealth(ctx);
    expect(parentOf(report, "with_default")).toMatchObject({
      problem: null,
      partitions: 4,
      partitionsAhead: 2,
      aheadUntil: "2027-02-01T00:00:00Z",
      defaultPartitionRows: 3,
      archiveBacklog: 0,
      failedRuns24h: 0,
    });
    expect(parentOf(report, "with_default").lastSuccess.maintain).not.toBeNull();
    expect(parentOf(report, "with_default").partitionList.map((p) => `${p.partition.name} ${p.state}`)).toEqual([
      "with_default_p2026_11 current",
      "with_default_p2026_12 future",
      "with_default_p2027_01 future",
      "with_default_default default",
    ]);
    expect(parentOf(report, "one_ahead")).toMatchObject({ partitionsAhead: 1, aheadUntil: "2027-01-01T00:00:00Z", defaultPartitionRows: null });

    const expiring = parentOf(report, "expiring");
    expect(expiring).toMatchObject({ archiveBacklog: 7, oldestExpiring: { schema: "public", name: "expiring_p2026_01" }, partitionsAhead: 1 });
    expect(expiring.partitionList.filter((p) => p.state === "past").map((p) => p.partition.name)).toEqual(["expiring_p2026_08", "expiring_p2026_09", "expiring_p2026_10"]);
    expect(expiring.partitionList.find((p) => p.partition.name === "expiring_p2026_01")).toMatchObject({
      lower: "2026-01-01T00:00:00Z",
      upper: "2026-02-01T00:00:00Z",
      bytes: expect.any(Number),
    });

    expect(parentOf(report, "failing")).toMatchObject({ failedRuns24h: 1, lastSuccess: { maintain: null } });
    expect(parentOf(report, "missing").problem).toBe("public.missing does not exist");
    expect(parentOf(report, "not_partitioned").problem).toBe("public.not_partitioned is not a partitioned table");
    // The planner's refusal is the problem: the policy says range-integer, the parent is range on a timestamp.
    expect(parentOf(report, "failing").problem).toMatch(/^public\.failing /);
  });

  it("the views answer SQL users the same: partkeeper.parents and partkeeper.partitions", async () => {
    const [row] = await sql`select archive_backlog::int, oldest_expiring from partkeeper.parent_health(${NOW}) where parent_name = 'expiring'`;
    expect(row).toEqual({ archive_backlog: 7, oldest_expiring: "expiring_p2026_01" });
    const states = await sql`select state, count(*)::int as n from partkeeper.partitions where parent_name = 'expiring' group by state order by state`;
    expect(states.length).toBeGreaterThan(0);
    const [analyzed] = await sql`select last_analyze from partkeeper.partitions where partition_name = 'expiring_p2026_01'`;
    expect(analyzed!.last_analyze).toBeNull();
  });

  it("after archive and refresh-stats: archived partitions, the archive catalog, and last analyze per partition", async () => {
    const archive = await runJob(ctx, { job: "archive", dryRun: false, only: [{ schema: "public", name: "expiring" }] });
    expect(archive.ok, JSON.stringify(archive.parents)).toBe(true);
    await runRefreshStats(ctx, { dryRun: false });
    const report = await readHealth(ctx);
    const expiring = parentOf(report, "expiring");
    expect(expiring).toMatchObject({ archiveBacklog: 0, oldestExpiring: null });
    const archived = expiring.partitionList.filter((p) => p.state === "archived");
    expect(archived.map((p) => p.partition.name)).toEqual(["01", "02", "03", "04", "05", "06", "07"].map((m) => `expiring_p2026_${m}`));
    expect(archived.reduce((sum, p) => sum + p.rows!, 0)).toBe(5000 - (await sql`select count(*)::int as n from expiring`)[0]!.n);
    expect(expiring.lastSuccess.archive).not.toBeNull();
    const pastAnalyzed = async () => (await readHealth(ctx)).parents.find((p) => p.parent.name === "expiring")!.partitionList.find((p) => p.state === "past")!.lastAnalyze;
    expect(await eventually(pastAnalyzed)).not.toBeNull();

    const catalog = await sql`select partition_name, rows::int, verified_at, object_key from partkeeper.archive_catalog where parent_name = 'expiring' order by partition_name`;
    expect(catalog).toHaveLength(7);
    expect(catalog.every((c) => c.verified_at !== null && c.object_key.endsWith(".parquet"))).toBe(true);
  });
});
