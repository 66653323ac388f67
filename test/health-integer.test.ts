import { describe, expect, it } from "vitest";
import { readHealth, runJob, type ConfigInput } from "@partkeeper/core";
import { createTestDatabase } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";

/**
 * The health views on range-integer parents (migration 0007): Postgres prints bigint bounds and negative
 * integer ones quoted (`FOR VALUES FROM ('1000') TO ('2000')`), which 0006 read as no number, so every
 * such partition was `current`. And readHealth, which counts a parent's partitions in JS, agrees with
 * `partkeeper.parent_health(at)` on every parent.
 */

const NOW = new Date("2026-11-21T12:00:00Z");

describe("health views of range-integer parents", async () => {
  const { url, sql } = await createTestDatabase();
  await sql.unsafe(`
    create table ledger (id bigint not null, v text) partition by range (id);
    create table ledger_low partition of ledger for values from (minvalue) to (-1000);
    create table ledger_neg partition of ledger for values from (-1000) to (0);
    create table ledger_p0 partition of ledger for values from (0) to (1000);
    create table ledger_p1000 partition of ledger for values from (1000) to (2000);
    create table ledger_p2000 partition of ledger for values from (2000) to (3000);
    create table ledger_p3000 partition of ledger for values from (3000) to (4000);
    create table ledger_p4000 partition of ledger for values from (4000) to (5000);
    create table counts (id int not null) partition by range (id);
    create table counts_neg partition of counts for values from (-1000) to (0);
    create table events (id bigint, at timestamptz not null) partition by range (at);
  `);
  const tables: ConfigInput["tables"] = [
    { table: "ledger", strategy: "range-integer", step: 1000, premake: 2, retention: 2000, defaultPartition: false },
    { table: "counts", strategy: "range-integer", step: 1000, premake: 1 },
    { table: "events", strategy: "range-time", interval: "month", premake: 2, retention: "1 month" },
  ];
  // Nothing is archived here; the location only satisfies the config (retention implies archiving).
  const ctx = await testJobContext(url, { archive: { location: "s3://health-integer/archive" }, tables }, { now: NOW });

  it("reads bigint and negative bounds as numbers: states, bounds, partitions ahead and until where", async () => {
    await sql`insert into ledger select g, 'x' from generate_series(-1500, 4500, 500) g`;
    await sql`insert into counts values (-5)`;
    const maintain = await runJob(ctx, { job: "maintain", dryRun: false });
    expect(maintain.ok, JSON.stringify(maintain.parents)).toBe(true);

    const partitions = await sql`
      select partition_name, lower_bound, upper_bound, state from partkeeper.partitions where parent_name = 'ledger' order by partition_name`;
    // max(id) 4500, retention 2000: expiring up to 2500, past up to 4500.
    expect(partitions.map((p) => `${p.partition_name} ${p.lower_bound}..${p.upper_bound} ${p.state}`).sort()).toEqual(
      [
        "ledger_low MINVALUE..-1000 expiring",
        "ledger_neg -1000..0 expiring",
        "ledger_p0 0..1000 expiring",
        "ledger_p1000 1000..2000 expiring",
        "ledger_p2000 2000..3000 past",
        "ledger_p3000 3000..4000 past",
        "ledger_p4000 4000..5000 current",
        "ledger_p5000 5000..6000 future",
        "ledger_p6000 6000..7000 future",
      ].sort(),
    );
    const [ledger] = await sql`select partitions_ahead::int, ahead_until, oldest_expiring, archive_backlog::int from partkeeper.parents where parent_name = 'ledger'`;
    expect(ledger).toEqual({ partitions_ahead: 2, ahead_until: "7000", oldest_expiring: "ledger_low", archive_backlog: 4 });
  });

  it("readHealth counts each parent's partitions as partkeeper.parent_health does", async () => {
    const report = await readHealth(ctx);
    const rows = await sql`select * from partkeeper.parent_health(${NOW})`;
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      const parent = report.parents.find((p) => p.parent.name === row.parent_name)!;
      expect({
        partitions: parent.partitions,
        partitionsAhead: parent.partitionsAhead,
        aheadUntil: parent.aheadUntil,
        oldestExpiring: parent.oldestExpiring?.name ?? null,
        archiveBacklog: parent.archiveBacklog,
        defaultPartitionRows: parent.defaultPartitionRows,
      }).toEqual({
        partitions: Number(row.partitions),
        partitionsAhead: row.partitions_ahead === null ? null : Number(row.partitions_ahead),
        aheadUntil: row.ahead_until,
        oldestExpiring: row.oldest_expiring,
        archiveBacklog: Number(row.archive_backlog),
        defaultPartitionRows: row.default_partition_rows === null ? null : Number(row.default_partition_rows),
      });
    }
    expect(report.parents.find((p) => p.parent.name === "counts")).toMatchObject({ defaultPartitionRows: 0, partitionsAhead: 1 });
  });
});
