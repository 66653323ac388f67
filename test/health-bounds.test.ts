import { describe, expect, it } from "vitest";
import { runJob, type ConfigInput } from "@partkeeper/core";
import { createTestDatabase } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";

/**
 * Bounds recorded for the health views (migration 0009, `partkeeper.partition_bound`): a job run
 * records every managed partition's parsed bound for its current attachment; the views read the
 * record where it holds and the catalog otherwise, so they give the same answers with or without it,
 * and right ones when partitions were created, detached or attached again since the last job.
 */

const NOW = new Date("2026-11-21T12:00:00Z");

describe("recorded partition bounds of the health views", async () => {
  const { url, sql } = await createTestDatabase();
  await sql.unsafe(`
    create table events (id bigint, at timestamptz not null) partition by range (at);
    create table ledger (id bigint not null) partition by range (id);
    create table ledger_low partition of ledger for values from (minvalue) to ('-1000');
    create table ledger_p0 partition of ledger for values from (0) to (1000);
  `);
  const tables: ConfigInput["tables"] = [
    { table: "events", strategy: "range-time", interval: "month", premake: 2, retention: "3 months" },
    { table: "ledger", strategy: "range-integer", step: 1000, premake: 1, defaultPartition: false },
  ];
  const ctx = await testJobContext(url, { archive: { location: "s3://health-bounds/archive" }, tables }, { now: NOW });
  await sql.unsafe(`
    create table events_p2026_06 partition of events for values from ('2026-06-01') to ('2026-07-01');
    create table events_p2026_07 partition of events for values from ('2026-07-01') to ('2026-08-01');
  `);
  await runJob(ctx, { job: "maintain", dryRun: false });

  const partitions = () => sql`
    select partition_name, bounds, lower_bound, upper_bound, bound_order, state, rows
    from partkeeper.partition_health(${NOW}) order by parent_name, partition_name`;
  const parents = () => sql`select * from partkeeper.parent_health(${NOW}) order by parent_name`;
  const recorded = () => sql`select count(*)::int as n from partkeeper.partition_bound`;

  it("a job records every managed partition's bound; recording again finds nothing new", async () => {
    const live = await sql`select count(*)::int as n from pg_inherits where inhparent in ('events'::regclass, 'ledger'::regclass)`;
    expect((await recorded())[0]!.n).toBe(live[0]!.n);
    const [again] = await sql`select partkeeper.record_partition_bounds()::int as n`;
    expect(again!.n).toBe(0);
  });

  it("the views give the same answers from recorded bounds as from the catalog", async () => {
    const [fromRecord, parentsFromRecord] = [await partitions(), await parents()];
    expect(fromRecord.find((p) => p.partition_name === "events_p2026_06")).toMatchObject({
      lower_bound: "2026-06-01T00:00:00Z", upper_bound: "2026-07-01T00:00:00Z", state: "expiring",
    });
    expect(fromRecord.find((p) => p.partition_name === "ledger_low")).toMatchObject({ lower_bound: "MINVALUE", upper_bound: "-1000" });
    await sql`delete from partkeeper.partition_bound`;
    expect(await partitions()).toEqual(fromRecord);
    expect(await parents()).toEqual(parentsFromRecord);
    await sql`select partkeeper.record_partition_bounds()`;
  });

  it("a partition detached and attached again with other bounds shows its new bounds before any job records them", async () => {
    await sql.unsafe(`
      alter table events detach partition events_p2026_07;
      alter table events attach partition events_p2026_07 for values from ('2025-01-01') to ('2025-02-01');
    `);
    const moved = (await partitions()).find((p) => p.partition_name === "events_p2026_07");
    expect(moved).toMatchObject({ lower_bound: "2025-01-01T00:00:00Z", upper_bound: "2025-02-01T00:00:00Z", state: "expiring" });
    const [events] = (await parents()).filter((p) => p.parent_name === "events");
    expect(events).toMatchObject({ oldest_expiring: "events_p2026_07", archive_backlog: "2" });

    await runJob(ctx, { job: "maintain", dryRun: false });
    const [row] = await sql`select b.lower_text from partkeeper.partition_bound b where b.partition_oid = 'events_p2026_07'::regclass`;
    expect(row!.lower_text).toBe("2025-01-01T00:00:00Z");
    expect((await partitions()).find((p) => p.partition_name === "events_p2026_07")).toEqual(moved);
  });

  it("a partition created by hand since the last job is shown; a dropped one's record is forgotten by the next", async () => {
    await sql`create table events_old partition of events for values from ('2024-01-01') to ('2024-02-01')`;
    expect((await partitions()).find((p) => p.partition_name === "events_old")).toMatchObject({ state: "expiring", upper_bound: "2024-02-01T00:00:00Z" });
    const oid = (await sql`select 'events_p2026_06'::regclass::oid as oid`)[0]!.oid;
    await sql`drop table events_p2026_06`;
    expect((await partitions()).some((p) => p.partition_name === "events_p2026_06")).toBe(false);
    await runJob(ctx, { job: "maintain", dryRun: false });
    expect(await sql`select 1 from partkeeper.partition_bound where partition_oid = ${oid}`).toHaveLength(0);
    expect(await sql`select 1 from partkeeper.partition_bound where partition_oid = 'events_old'::regclass`).toHaveLength(1);
  });
});
