import { describe, expect, it } from "vitest";
import { runJob } from "@partkeeper/core";
import { createTestDatabase } from "./helpers.ts";
import { partitionNames, testJobContext } from "./job-context.ts";

/**
 * runJob goes over parents in chunks (half of max_locks_per_transaction: 32 on the test server):
 * one set of advisory locks, one catalog read and one plan per chunk; parents with work then run on
 * their own. Results come back in config order, each as a run of that parent alone would report it.
 */
describe("maintain over more parents than one chunk", async () => {
  const { url, sql } = await createTestDatabase();
  const daily = Array.from({ length: 36 }, (_, i) => `d${String(i + 1).padStart(2, "0")}`);
  const statements = daily.map((t) => `create table "${t}" (id bigint not null, at timestamptz not null) partition by range (at)`);
  statements.push(
    `create table ids (id bigint not null) partition by range (id)`,
    `create table ids_p0 partition of ids for values from (0) to (1000)`,
    `create table ids_p2000 partition of ids for values from (2000) to (3000)`,
    `insert into ids values (1), (2500)`,
    `create table "withDefault" (id bigint not null, at timestamptz not null) partition by range (at)`,
  );
  await sql.unsafe(statements.join(";\n"));
  const ctx = await testJobContext(url, {
    tables: [
      ...daily.map((t) => ({ table: t, strategy: "range-time" as const, interval: "day" as const, premake: 1, defaultPartition: false })),
      { table: "missing", strategy: "range-time", interval: "day", premake: 1 },
      { table: "ids", strategy: "range-integer", step: 1000, premake: 1, defaultPartition: false },
      { table: "withDefault", strategy: "range-time", interval: "month", premake: 1 },
    ],
  });
  const names = ["missing", "ids", "withDefault"];

  it("creates every parent's partitions, then finds nothing to do, in config order", async () => {
    const first = await runJob(ctx, { job: "maintain", dryRun: false });
    expect(first.parents.map((p) => p.parent.name)).toEqual([...daily, ...names]);
    expect(first.parents.map((p) => [p.parent.name, p.status, p.actions.length]).filter(([, status]) => status !== "ok")).toEqual([["missing", "failed", 0]]);
    expect(await partitionNames(sql, "public", "ids")).toEqual(["ids_p0", "ids_p1000", "ids_p2000", "ids_p3000"]);
    await sql`insert into "withDefault" values (1, '2031-01-01 00:00:00+00'), (2, '2031-01-02 00:00:00+00'), (3, '2031-01-03 00:00:00+00')`;

    const again = await runJob(ctx, { job: "maintain", dryRun: false });
    expect(again.parents.map((p) => p.parent.name)).toEqual([...daily, ...names]);
    const byName = new Map(again.parents.map((p) => [p.parent.name, p]));
    for (const t of daily) expect(byName.get(t)).toEqual({ parent: { schema: "public", name: t }, status: "ok", actions: [], partitionsAhead: 1 });
    expect(byName.get("missing")).toMatchObject({ status: "failed", message: expect.stringMatching(/public\.missing does not exist/) });
    expect(byName.get("ids")).toEqual({ parent: { schema: "public", name: "ids" }, status: "ok", actions: [], partitionsAhead: 1 });
    expect(byName.get("withDefault")).toEqual({ parent: { schema: "public", name: "withDefault" }, status: "ok", actions: [], partitionsAhead: 1, defaultPartitionRows: 3 });

    const [runs] = await sql`select count(*)::int as n, count(*) filter (where status = 'ok')::int as ok from partkeeper.parent_run where job_run_id = ${again.jobRunId}`;
    expect(runs).toEqual({ n: daily.length + 3, ok: daily.length + 2 });
    const [ids] = await sql`select max_key::text from partkeeper.managed_parent where parent_name = 'ids'`;
    expect(ids!.max_key).toBe("2500");
  });

  it("skips a parent another runner holds and runs on its own a parent with work, wherever they fall in the chunks", async () => {
    await sql`drop table "d34_p2026_11_22"`;
    await sql`insert into ids values (3500)`;
    const other = await sql.reserve();
    try {
      await other`select pg_advisory_lock(hashtextextended(${'partkeeper:["public","d02"]'}, 0))`;
      const summary = await runJob(ctx, { job: "maintain", dryRun: false });
      const byName = new Map(summary.parents.map((p) => [p.parent.name, p]));
      expect(byName.get("d02")).toMatchObject({ status: "skipped", message: expect.stringMatching(/another partkeeper run is working on public\.d02 \(pid \d+/) });
      expect(byName.get("d34")!.actions.map((a) => [a.action.partition.name, a.status])).toEqual([["d34_p2026_11_22", "applied"]]);
      expect(byName.get("d34")!.partitionsAhead).toBe(1);
      expect(byName.get("ids")!.actions.map((a) => [a.action.partition.name, a.status])).toEqual([["ids_p4000", "applied"]]);
      expect(summary.parents.filter((p) => p.status === "ok").length).toBe(daily.length + 1);
      const [ids] = await sql`select max_key::text from partkeeper.managed_parent where parent_name = 'ids'`;
      expect(ids!.max_key).toBe("3500");
    } finally {
      await other`select pg_advisory_unlock_all()`;
      other.release();
    }
  });

  it("plans without locks or records in a dry run", async () => {
    await sql`drop table "d35_p2026_11_22"`;
    const [before] = await sql`select count(*)::int as n from partkeeper.job_run`;
    const summary = await runJob(ctx, { job: "maintain", dryRun: true });
    expect(summary.parents.find((p) => p.parent.name === "d35")!.actions.map((a) => [a.status, a.statements])).toEqual([
      ["planned", [`CREATE TABLE "public"."d35_p2026_11_22" PARTITION OF "public"."d35" FOR VALUES FROM ('2026-11-22 00:00:00+00') TO ('2026-11-23 00:00:00+00')`]],
    ]);
    expect(summary.parents.find((p) => p.parent.name === "d01")).toEqual({ parent: { schema: "public", name: "d01" }, status: "ok", actions: [] });
    const [after] = await sql`select count(*)::int as n from partkeeper.job_run`;
    expect(after!.n).toBe(before!.n);
    expect(await partitionNames(sql, "public", "d35")).toEqual(["d35_p2026_11_21"]);
  });
});
