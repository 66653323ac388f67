import { describe, expect, it } from "vitest";
import { runJob } from "@partkeeper/core";
import { createTestDatabase } from "./helpers.ts";
import { partitionNames, testJobContext } from "./job-context.ts";

/**
 * Plain creates share a transaction (partitions/create-batches.ts). The batch is one DDL step, with
 * lock_timeout and retries: whatever happens to it, every partition of the plan ends up existing
 * exactly once, and the outcomes are the ones a create per transaction would have had.
 */
describe("maintain creates partitions in batches", async () => {
  const { url, sql } = await createTestDatabase();
  const days = ["2026_11_21", "2026_11_22", "2026_11_23", "2026_11_24", "2026_11_25", "2026_11_26"];
  const table = (name: string) => ({ table: name, strategy: "range-time" as const, interval: "day" as const, premake: 5 });
  const createParent = (name: string) =>
    sql.unsafe(`create table "${name}" (id bigint not null, "createdAt" timestamptz not null, body text, primary key (id, "createdAt")) partition by range ("createdAt")`);
  const only = (name: string) => [{ schema: "public", name }];

  /** Holds ACCESS SHARE on `name` (a reader in a long transaction) until `release()`: every CREATE ... PARTITION OF it waits. */
  const holdReader = async (name: string) => {
    const reader = await sql.reserve();
    await reader`begin`;
    await reader.unsafe(`lock table "${name}" in access share mode`);
    return async () => {
      await reader`rollback`;
      reader.release();
    };
  };

  it("creates a parent's partitions and default partition in one transaction, each reported applied", async () => {
    await createParent("Batched");
    const ctx = await testJobContext(url, { tables: [table("Batched")] });
    const summary = await runJob(ctx, { job: "maintain", dryRun: false, only: only("Batched") });
    expect(summary.parents[0]!.status).toBe("ok");
    expect(summary.parents[0]!.actions.map((a) => [a.action.partition.name, a.status, a.statements.length])).toEqual([
      ...days.map((d) => [`Batched_p${d}`, "applied", 1]),
      ["Batched_default", "applied", 1],
    ]);
    expect(summary.parents[0]!.actions[0]!.statements[0]).toBe(
      `CREATE TABLE "public"."Batched_p2026_11_21" PARTITION OF "public"."Batched" FOR VALUES FROM ('2026-11-21 00:00:00+00') TO ('2026-11-22 00:00:00+00')`,
    );
    // One transaction: every partition and the default got the same xmin in pg_class.
    const [xmins] = await sql`
      select count(distinct c.xmin::text)::int as n from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = '"Batched"'::regclass`;
    expect(xmins!.n).toBe(1);
    expect(await partitionNames(sql, "public", "Batched")).toEqual(["Batched_default", ...days.map((d) => `Batched_p${d}`)]);
  });

  it("creates none of a batch whose parent stays locked through every attempt, and all of them, once, on the next run", async () => {
    await createParent("Held");
    const ctx = await testJobContext(url, { lockTimeoutMs: 50, ddlAttempts: 2, tables: [table("Held")] });
    const release = await holdReader("Held");
    let summary;
    try {
      summary = await runJob(ctx, { job: "maintain", dryRun: false, only: only("Held") });
    } finally {
      await release();
    }
    const result = summary.parents[0]!;
    expect(result.status).toBe("failed");
    // As with one create per transaction: the first create failed on the parent's lock, the rest of the group was not tried.
    expect(result.actions.map((a) => [a.action.partition.name, a.status, a.errorName])).toEqual([["Held_p2026_11_21", "failed", "LockTimeoutError"]]);
    expect(result.message).toMatch(/create-partition public\.Held_p2026_11_21: create 7 partitions of public\.Held: .* gave up after 2 attempts with lock_timeout 50 ms/);
    expect(await partitionNames(sql, "public", "Held")).toEqual([]);

    const again = await runJob(ctx, { job: "maintain", dryRun: false, only: only("Held") });
    expect(again.parents[0]!.status).toBe("ok");
    expect(again.parents[0]!.actions.map((a) => a.status)).toEqual(Array(7).fill("applied"));
    expect(await partitionNames(sql, "public", "Held")).toEqual(["Held_default", ...days.map((d) => `Held_p${d}`)]);
  });

  it("retries a batch whose parent's lock frees up, and creates each partition once", async () => {
    await createParent("Briefly");
    const ctx = await testJobContext(url, { lockTimeoutMs: 100, ddlAttempts: 10, tables: [table("Briefly")] });
    const release = await holdReader("Briefly");
    const released = new Promise((resolve) => setTimeout(resolve, 300)).then(release);
    const started = performance.now();
    const summary = await runJob(ctx, { job: "maintain", dryRun: false, only: only("Briefly") });
    expect(performance.now() - started).toBeGreaterThanOrEqual(250); // it waited for the reader
    await released;
    expect(summary.parents[0]!.status).toBe("ok");
    expect(summary.parents[0]!.actions.map((a) => [a.action.partition.name, a.status])).toEqual([
      ...days.map((d) => [`Briefly_p${d}`, "applied"]),
      ["Briefly_default", "applied"],
    ]);
    expect(await partitionNames(sql, "public", "Briefly")).toEqual(["Briefly_default", ...days.map((d) => `Briefly_p${d}`)]);
  });

  it("applies a batch one by one when a create in it fails, keeping the creates before it and naming the failing one", async () => {
    await createParent("Clash");
    await sql`create table "Clash_p2026_11_24" (unrelated int)`;
    const ctx = await testJobContext(url, { tables: [table("Clash")] });
    const summary = await runJob(ctx, { job: "maintain", dryRun: false, only: only("Clash") });
    const result = summary.parents[0]!;
    expect(result.status).toBe("failed");
    expect(result.message).toMatch(/create-partition public\.Clash_p2026_11_24: relation "Clash_p2026_11_24" already exists/);
    expect(result.actions.map((a) => [a.action.partition.name, a.status])).toEqual([
      ["Clash_p2026_11_21", "applied"],
      ["Clash_p2026_11_22", "applied"],
      ["Clash_p2026_11_23", "applied"],
      ["Clash_p2026_11_24", "failed"],
    ]);
    expect(await partitionNames(sql, "public", "Clash")).toEqual(["Clash_p2026_11_21", "Clash_p2026_11_22", "Clash_p2026_11_23"]);
  });

  it("cuts a parent's creates into transactions the lock budget holds", async () => {
    const [budget] = await sql`select current_setting('max_locks_per_transaction')::int / 2 as locks`;
    // A table, its primary key index, its TOAST table and index: 4 locks per partition until the commit.
    const perTransaction = Math.floor((budget!.locks as number) / 4);
    await createParent("Many");
    const premake = 2 * perTransaction + 1;
    const ctx = await testJobContext(url, { tables: [{ ...table("Many"), premake, defaultPartition: false }] });
    const summary = await runJob(ctx, { job: "maintain", dryRun: false, only: only("Many") });
    expect(summary.parents[0]!.status).toBe("ok");
    expect(summary.parents[0]!.actions).toHaveLength(premake + 1);
    const batches = await sql`
      select count(*)::int as partitions from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = '"Many"'::regclass group by c.xmin::text order by 1 desc`;
    expect(batches.map((b) => b.partitions)).toEqual([perTransaction, perTransaction, 2]);
  });
});
