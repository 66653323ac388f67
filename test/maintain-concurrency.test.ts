import { describe, expect, it } from "vitest";
import { parseConfig, runJob } from "@partkeeper/core";
import { createTestDatabase, eventually } from "./helpers.ts";
import { partitionNames, testJobContext } from "./job-context.ts";

/**
 * maintain.concurrency > 1: several parents are worked on at once, each under its own advisory lock
 * and on its own connections. The summary still lists parents in config order, a parent's failure is
 * its own, and a second run finds nothing to do.
 */
describe("maintain over parents at once (maintain.concurrency 3)", async () => {
  const { url, sql } = await createTestDatabase();
  const parents = ["first", "Posts", "Événements", "blocked", "e5", "e6"];
  await sql.unsafe(
    [
      ...parents.map((t) => `create table "${t}" (id bigint not null, "createdAt" timestamptz not null, primary key (id, "createdAt")) partition by range ("createdAt")`),
      // Takes the name of one of `blocked`'s partitions: creating that partition fails.
      `create table "blocked_p2026_11_22" (unrelated int)`,
    ].join(";\n"),
  );
  const ctx = await testJobContext(url, {
    // A wait for a lock lasts up to 10 s and is not retried: the test below holds one for a while.
    lockTimeoutMs: 10_000,
    ddlAttempts: 1,
    maintain: { concurrency: 3 },
    tables: parents.map((t) => ({ table: t, strategy: "range-time" as const, interval: "day" as const, premake: 2 })),
  });
  const expected = (t: string) => [`${t}_default`, `${t}_p2026_11_21`, `${t}_p2026_11_22`, `${t}_p2026_11_23`];

  it("works on other parents while one waits for a lock, reports the failing parent, and lists parents in config order", async () => {
    // A reader holds ACCESS SHARE on `first`: its creates wait. Parents after it go ahead meanwhile,
    // which one parent at a time could not do.
    const reader = await sql.reserve();
    await reader`begin`;
    await reader`lock table "first" in access share mode`;
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await reader`rollback`;
      reader.release();
    };
    try {
      const running = runJob(ctx, { job: "maintain", dryRun: false });
      const othersDone = await eventually(async () => ((await partitionNames(sql, "public", "Posts")).length === 4 ? true : null), 8000);
      expect(await partitionNames(sql, "public", "first")).toEqual([]);
      await release();
      expect(othersDone).toBe(true);
      const summary = await running;

      expect(summary.ok).toBe(false);
      expect(summary.parents.map((p) => [p.parent.name, p.status])).toEqual([
        ["first", "ok"],
        ["Posts", "ok"],
        ["Événements", "ok"],
        ["blocked", "failed"],
        ["e5", "ok"],
        ["e6", "ok"],
      ]);
      const blocked = summary.parents[3]!;
      expect(blocked.message).toMatch(/create-partition public\.blocked_p2026_11_22: relation "blocked_p2026_11_22" already exists/);
      // The partition before the failing one was created; the group stopped at the failure.
      expect(blocked.actions.map((a) => [a.action.partition.name, a.status])).toEqual([
        ["blocked_p2026_11_21", "applied"],
        ["blocked_p2026_11_22", "failed"],
      ]);
      for (const t of parents.filter((p) => p !== "blocked")) {
        expect(await partitionNames(sql, "public", t)).toEqual(expected(t));
        const result = summary.parents.find((p) => p.parent.name === t)!;
        expect(result.actions.map((a) => a.status)).toEqual(["applied", "applied", "applied", "applied"]);
        expect(result).toMatchObject({ partitionsAhead: 2, defaultPartitionRows: 0 });
      }
      expect(await partitionNames(sql, "public", "blocked")).toEqual(["blocked_p2026_11_21"]);

      // Written once, at the end: one outcome per parent for this run.
      const outcomes = await sql`select parent_name, status from partkeeper.parent_run where job_run_id = ${summary.jobRunId} order by parent_name`;
      expect(outcomes.map((o) => [o.parent_name, o.status])).toEqual(summary.parents.map((p) => [p.parent.name, p.status]).sort(([a], [b]) => (a! < b! ? -1 : 1)));
    } finally {
      await release();
    }
  });

  it("after the blocker is gone, finishes the failed parent only; then a run is a no-op", async () => {
    await sql`drop table "blocked_p2026_11_22"`;
    const second = await runJob(ctx, { job: "maintain", dryRun: false });
    expect(second.ok).toBe(true);
    expect(second.parents.map((p) => [p.parent.name, p.actions.length])).toEqual(parents.map((t) => [t, t === "blocked" ? 3 : 0]));
    expect(await partitionNames(sql, "public", "blocked")).toEqual(expected("blocked"));

    const third = await runJob(ctx, { job: "maintain", dryRun: false });
    expect(third.ok).toBe(true);
    expect(third.parents.map((p) => [p.parent.name, p.status, p.actions.length])).toEqual(parents.map((t) => [t, "ok", 0]));
    for (const t of parents) expect(await partitionNames(sql, "public", t)).toEqual(expected(t));
  });

  it("refuses a concurrency below 1 or above 16 with a clear error, before any SQL", () => {
    const tables = [{ table: "first", strategy: "range-time", interval: "day", premake: 2 }];
    expect(() => parseConfig({ maintain: { concurrency: 0 }, tables })).toThrow(/maintain\.concurrency.*must be at least 1/);
    expect(() => parseConfig({ maintain: { concurrency: 17 }, tables })).toThrow(/maintain\.concurrency.*must be at most 16/);
    expect(() => parseConfig({ maintain: { concurrency: 1.5 }, tables })).toThrow(/maintain\.concurrency/);
    expect(parseConfig({ tables }).maintain.concurrency).toBe(2);
  });
});
