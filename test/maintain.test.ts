import { describe, expect, it } from "vitest";
import { runJob } from "@partkeeper/core";
import { createTestDatabase } from "./helpers.ts";
import { partitionNames, testJobContext } from "./job-context.ts";

describe("maintain job on real PostgreSQL", async () => {
  const { url, sql } = await createTestDatabase();
  await sql.unsafe(`
    create schema "Sales Ünïcode";
    create table "Sales Ünïcode"."hej""hej Événements" (id bigint generated always as identity, "createdAt" timestamptz not null, body text)
      partition by range ("createdAt");
    create table "Sales Ünïcode"."hej""hej Événements_p2026_10" partition of "Sales Ünïcode"."hej""hej Événements"
      for values from ('2026-10-01 00:00:00+00') to ('2026-11-01 00:00:00+00');
    create table "Sales Ünïcode"."hej""hej Événements_default" partition of "Sales Ünïcode"."hej""hej Événements" default;
    insert into "Sales Ünïcode"."hej""hej Événements" ("createdAt", body)
      select timestamptz '2026-11-01 00:00:00+00' + g * interval '1 hour', 'row ' || g from generate_series(0, 999) g;
    create table plain_table (id int);
    create table ids (id bigint not null, v text) partition by range (id);
  `);
  const ctx = await testJobContext(url, {
    tables: [
      { schema: "Sales Ünïcode", table: 'hej"hej Événements', strategy: "range-time", interval: "month", premake: 2 },
      { table: "plain_table", strategy: "hash", modulus: 4 },
      { table: "missing_table", strategy: "list", values: ["a"] },
      { table: "ids", strategy: "range-integer", step: 1000, premake: 2, defaultPartition: false },
    ],
  });

  it("creates current and premade partitions, moves default-partition rows, and reports unmanageable parents", async () => {
    const before = await sql`select count(*)::int as n from "Sales Ünïcode"."hej""hej Événements"`;
    const summary = await runJob(ctx, { job: "maintain", dryRun: false });
    expect(summary.ok).toBe(false);
    const [events, plain, missing, ids] = summary.parents;
    expect(events!.status).toBe("ok");
    expect(events!.actions.map((a) => [a.action.partition.name, a.status, a.rowsMoved ?? 0])).toEqual([
      ['hej"hej Événements_p2026_11', "applied", 720],
      ['hej"hej Événements_p2026_12', "applied", 280],
      ['hej"hej Événements_p2027_01', "applied", 0],
    ]);
    expect(await partitionNames(sql, "Sales Ünïcode", 'hej"hej Événements')).toEqual([
      'hej"hej Événements_default',
      'hej"hej Événements_p2026_10',
      'hej"hej Événements_p2026_11',
      'hej"hej Événements_p2026_12',
      'hej"hej Événements_p2027_01',
    ]);
    const [after] = await sql`select count(*)::int as n from "Sales Ünïcode"."hej""hej Événements"`;
    expect(after!.n).toBe(before[0]!.n);
    const [inDefault] = await sql`select count(*)::int as n from "Sales Ünïcode"."hej""hej Événements_default"`;
    expect(inDefault!.n).toBe(0);

    expect(plain!.status).toBe("failed");
    expect(plain!.message).toMatch(/public\.plain_table is not partitioned/);
    expect(missing!.status).toBe("failed");
    expect(missing!.message).toMatch(/public\.missing_table does not exist/);
    expect(ids!.status).toBe("ok");
    expect(await partitionNames(sql, "public", "ids")).toEqual(["ids_p0", "ids_p1000", "ids_p2000"]);

    const [run] = await sql`select status, error from partkeeper.job_run where id = ${summary.jobRunId}`;
    expect(run!.status).toBe("failed");
    expect(run!.error).toMatch(/plain_table/);
  });

  it("plans premake from max(key) of the non-default partitions, and refuses a plan of runaway size", async () => {
    await sql.unsafe(`
      create table ledger (id bigint not null) partition by range (id);
      create table ledger_p0 partition of ledger for values from (0) to (1000);
      create table ledger_default partition of ledger default;
      insert into ledger values (5), (10000000000);
    `);
    const only = [{ schema: "public", name: "ledger" }];
    const ledger = await testJobContext(url, { tables: [{ table: "ledger", strategy: "range-integer", step: 1000, premake: 2 }] });
    const summary = await runJob(ledger, { job: "maintain", dryRun: true, only });
    expect(summary.parents[0]!.actions.map((a) => a.action.partition.name)).toEqual(["ledger_p1000", "ledger_p2000"]);

    await sql`create table ledger_p100000000 partition of ledger for values from (100000000) to (100001000)`;
    await sql`insert into ledger values (100000500)`;
    const runaway = await runJob(ledger, { job: "maintain", dryRun: true, only });
    expect(runaway.parents[0]!.status).toBe("failed");
    expect(runaway.parents[0]!.message).toMatch(/more than 1000 partitions are missing between 0 and 100003000: look for an outlier key/);
  });

  it("moves default-partition rows of a parent with a stored generated column", async () => {
    await sql.unsafe(`
      create table priced (id bigint not null, at date not null, net numeric(12,2) not null,
        gross numeric(12,2) generated always as (net * 1.25) stored) partition by range (at);
      create table priced_default partition of priced default;
      insert into priced (id, at, net) values (1, '2026-11-02', 100), (2, '2026-12-24', 8);
    `);
    const priced = await testJobContext(url, { tables: [{ table: "priced", strategy: "range-time", interval: "month", premake: 1 }] });
    const summary = await runJob(priced, { job: "maintain", dryRun: false, only: [{ schema: "public", name: "priced" }] });
    expect(summary.parents[0]!.status).toBe("ok");
    expect(summary.parents[0]!.actions.map((a) => a.rowsMoved)).toEqual([1, 1]);
    const rows = await sql`select tableoid::regclass::text as p, id::int, gross::text from priced order by id`;
    expect(rows.map((r) => [r.p, r.id, r.gross])).toEqual([["priced_p2026_11", 1, "125.00"], ["priced_p2026_12", 2, "10.00"]]);
  });

  it("still expires old partitions when creating a future one fails", async () => {
    await sql.unsafe(`
      create table mixed (id bigint not null, at timestamptz not null) partition by range (at);
      create table mixed_p2026_01 partition of mixed for values from ('2026-01-01 00:00:00+00') to ('2026-02-01 00:00:00+00');
      create table mixed_p2026_11 (unrelated int); -- takes the name of the current month's partition
    `);
    const mixed = await testJobContext(url, {
      tables: [{ table: "mixed", strategy: "range-time", interval: "month", premake: 0, defaultPartition: false, retention: "3 months", archive: { enabled: false } }],
    });
    const summary = await runJob(mixed, { job: "lifecycle", dryRun: false, only: [{ schema: "public", name: "mixed" }] });
    const result = summary.parents[0]!;
    expect(result.status).toBe("failed");
    expect(result.message).toMatch(/create-partition public\.mixed_p2026_11: relation "mixed_p2026_11" already exists/);
    expect(result.actions.map((a) => [a.action.kind, a.action.partition.name, a.status])).toEqual([
      ["create-partition", "mixed_p2026_08", "applied"], // gaps not yet expired are filled
      ["create-partition", "mixed_p2026_09", "applied"],
      ["create-partition", "mixed_p2026_10", "applied"],
      ["create-partition", "mixed_p2026_11", "failed"],
      ["drop-partition", "mixed_p2026_01", "applied"],
    ]);
    expect(await partitionNames(sql, "public", "mixed")).toEqual(["mixed_p2026_08", "mixed_p2026_09", "mixed_p2026_10"]);
  });

  it("is idempotent: a second run creates nothing", async () => {
    const summary = await runJob(ctx, { job: "maintain", dryRun: false, only: [{ schema: "Sales Ünïcode", name: 'hej"hej Événements' }] });
    expect(summary.ok).toBe(true);
    expect(summary.parents[0]!.actions).toEqual([]);
  });

  it("plans without changing anything, showing the exact SQL", async () => {
    await sql`drop table "Sales Ünïcode"."hej""hej Événements_p2027_01"`;
    const summary = await runJob(ctx, { job: "maintain", dryRun: true, only: [{ schema: "Sales Ünïcode", name: 'hej"hej Événements' }] });
    expect(summary.jobRunId).toBeNull();
    expect(summary.parents[0]!.actions.map((a) => [a.status, a.statements])).toEqual([
      [
        "planned",
        [
          `LOCK TABLE "Sales Ünïcode"."hej""hej Événements" IN SHARE ROW EXCLUSIVE MODE`,
          `LOCK TABLE "Sales Ünïcode"."hej""hej Événements_default" IN ACCESS EXCLUSIVE MODE`,
          `CREATE TABLE "Sales Ünïcode"."hej""hej Événements_p2027_01" (LIKE "Sales Ünïcode"."hej""hej Événements" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)`,
          `WITH moved AS (DELETE FROM "Sales Ünïcode"."hej""hej Événements_default" WHERE "createdAt" >= '2027-01-01 00:00:00+00' AND "createdAt" < '2027-02-01 00:00:00+00' RETURNING "id", "createdAt", "body") INSERT INTO "Sales Ünïcode"."hej""hej Événements_p2027_01" ("id", "createdAt", "body") SELECT "id", "createdAt", "body" FROM moved`,
          `ALTER TABLE "Sales Ünïcode"."hej""hej Événements" ATTACH PARTITION "Sales Ünïcode"."hej""hej Événements_p2027_01" FOR VALUES FROM ('2027-01-01 00:00:00+00') TO ('2027-02-01 00:00:00+00')`,
        ],
      ],
    ]);
    expect(await partitionNames(sql, "Sales Ünïcode", 'hej"hej Événements')).not.toContain('hej"hej Événements_p2027_01');
  });

  it("skips a parent another runner holds, with a message, and does not error", async () => {
    const other = await sql.reserve();
    try {
      await other`select pg_advisory_lock(hashtextextended(${'partkeeper:["public","ids"]'}, 0))`;
      const summary = await runJob(ctx, { job: "maintain", dryRun: false, only: [{ schema: "public", name: "ids" }] });
      expect(summary.ok).toBe(true);
      expect(summary.parents[0]!.status).toBe("skipped");
      expect(summary.parents[0]!.message).toMatch(/another partkeeper run is working on public\.ids \(pid \d+/);
    } finally {
      await other`select pg_advisory_unlock_all()`;
      other.release();
    }
  });
});
