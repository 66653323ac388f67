import path from "node:path";
import { describe, expect, it } from "vitest";
import { runJob, type JobContext } from "@partkeeper/core";
import { parseManifest } from "../packages/core/src/archive/manifest.ts";
import { openDuckdb } from "../packages/core/src/parquet/duckdb-session.ts";
import { createTestDatabase, listObjects, useTestS3 } from "./helpers.ts";
import { monthlyPolicy as policy } from "./archive-fixture.ts";
import { partitionNames, testJobContext } from "./job-context.ts";

const NOW = new Date("2026-11-21T12:00:00Z");

/** A monthly parent `name` with partitions May..Oct 2026 and `perMonth` rows each. */
async function monthlyParent(sql: JobContext["sql"], name: string, perMonth: number): Promise<void> {
  await sql.unsafe(`
    create table "${name}" (id bigint not null, ts timestamptz not null, amount numeric(12,2), payload jsonb, note text,
      primary key (id, ts)) partition by range (ts);
    do $$ begin
      for m in 5..10 loop
        execute format('create table %I partition of %I for values from (%L) to (%L)',
          '${name}_p2026_' || lpad(m::text, 2, '0'), '${name}',
          make_timestamptz(2026, m, 1, 0, 0, 0, 'UTC'), make_timestamptz(2026, m, 1, 0, 0, 0, 'UTC') + interval '1 month');
      end loop;
    end $$;
    insert into "${name}" (id, ts, amount, payload, note)
      select g, timestamptz '2026-05-01 00:00:00+00' + (g % 184) * interval '1 day' + (g % 86400) * interval '1 second' + interval '0.123456 second',
             (g % 100000) / 100.0, jsonb_build_object('g', g, 'tags', jsonb_build_array('a', 'b')),
             case when g % 7 = 0 then null else 'it''s "row" ' || g end
      from generate_series(1, ${perMonth * 6}) g;
  `);
}

/** Rows, sum(id) and sum(amount) of a relation: what a Parquet read-back must reproduce. */
async function fingerprint(sql: JobContext["sql"], relation: string) {
  const [row] = await sql.unsafe(`select count(*)::int as rows, sum(id)::text as ids, sum(amount)::text as amount from ${relation}`);
  return row as unknown as { rows: number; ids: string; amount: string };
}

describe("archive job on real PostgreSQL and a real S3 API", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();
  await monthlyParent(sql, "events", 2000);
  const before = await Promise.all(["05", "06", "07"].map((m) => fingerprint(sql, `events_p2026_${m}`)));
  const ctx = await testJobContext(url, { archive: { location }, tables: [policy("events")] }, { now: NOW });

  it("archives expired partitions, verifies them by reading back, then drops them; plan printed exactly the steps the run took", async () => {
    const plan = await runJob(ctx, { job: "archive", dryRun: true });
    const summary = await runJob(ctx, { job: "archive", dryRun: false });
    // One code path (STYLE rule 9): the dry run records each step, SQL or not, that the run then takes.
    const planned = plan.parents[0]!.actions.map((o) => o.statements);
    expect(planned).toEqual(summary.parents[0]!.actions.map((o) => o.statements));
    expect(planned[0]!.map((s) => s.split(" ").slice(0, 3).join(" "))).toEqual([
      "ALTER TABLE \"public\".\"events\"",
      "CREATE OR REPLACE",
      "ALTER TABLE \"public\".\"events_p2026_05\"",
      "-- export to",
      "-- verify the",
      "LOCK TABLE \"public\".\"events_p2026_05\"",
      "SELECT partkeeper.assert_archive_guard('\"public\".\"events_p2026_05\"'::regclass)",
      "DROP TABLE \"public\".\"events_p2026_05\"",
    ]);
    expect(summary.ok).toBe(true);
    const outcomes = summary.parents[0]!.actions;
    expect(outcomes.map((o) => [o.action.partition.name, o.status, o.archive?.finalState])).toEqual([
      ["events_p2026_05", "applied", "dropped"],
      ["events_p2026_06", "applied", "dropped"],
      ["events_p2026_07", "applied", "dropped"],
    ]);
    expect(await partitionNames(sql, "public", "events")).toEqual(["events_p2026_08", "events_p2026_09", "events_p2026_10"]);
    const records = await sql`select partition_name, state, rows::int from partkeeper.archive order by id`;
    expect(records.map((r) => [r.partition_name, r.state, r.rows])).toEqual([
      ["events_p2026_05", "dropped", before[0]!.rows],
      ["events_p2026_06", "dropped", before[1]!.rows],
      ["events_p2026_07", "dropped", before[2]!.rows],
    ]);

    // Read the stored objects back independently: same rows and values in DuckDB.
    for (const [i, outcome] of outcomes.entries()) {
      const archive = outcome.archive!;
      const file = path.join(ctx.workDir, `check-${i}.parquet`);
      await ctx.store!.getToFile(archive.objectKey, file);
      const duck = await openDuckdb(ctx.workDir);
      try {
        const [row] = await duck.query(
          `select count(*)::int as rows, sum(id)::varchar as ids, sum(amount)::varchar as amount from read_parquet('${file}')`,
          "fingerprint",
        );
        expect({ rows: Number(row!.rows), ids: row!.ids, amount: row!.amount }).toEqual(before[i]);
      } finally {
        duck.close();
      }
      const manifest = parseManifest(await ctx.store!.getJson(archive.manifestKey), archive.manifestKey);
      expect(manifest).toMatchObject({ rows: before[i]!.rows, keyColumn: "ts", partition: { schema: "public", name: `events_p2026_0${5 + i}` } });
      expect(manifest.columns.map((c) => [c.name, c.pgType, c.parquetType])).toEqual([
        ["id", "bigint", "BIGINT"],
        ["ts", "timestamp with time zone", "TIMESTAMPTZ"],
        ["amount", "numeric(12,2)", "DECIMAL(12,2)"],
        ["payload", "jsonb", "JSON"],
        ["note", "text", "VARCHAR"],
      ]);
      expect(manifest.boundExpression).toBe(
        `FOR VALUES FROM ('2026-0${5 + i}-01 00:00:00+00') TO ('2026-0${6 + i}-01 00:00:00+00')`,
      );
    }
  });

  it("is idempotent: a second run archives nothing", async () => {
    const summary = await runJob(ctx, { job: "archive", dryRun: false });
    expect(summary.ok).toBe(true);
    expect(summary.parents[0]!.actions).toEqual([]);
  });
});

describe("archive failures lose nothing", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();
  await monthlyParent(sql, "unreachable", 100);
  await monthlyParent(sql, "locked", 100);
  await monthlyParent(sql, "crashed", 100);
  await monthlyParent(sql, "reattached", 100);

  it("leaves partitions attached and says why when S3 is unreachable", async () => {
    const endpoint = process.env.AWS_ENDPOINT_URL_S3;
    process.env.AWS_ENDPOINT_URL_S3 = "http://127.0.0.1:1";
    let ctx: JobContext;
    try {
      ctx = await testJobContext(url, { archive: { location }, tables: [policy("unreachable")] }, { now: NOW });
    } finally {
      process.env.AWS_ENDPOINT_URL_S3 = endpoint;
    }
    const summary = await runJob(ctx, { job: "archive", dryRun: false });
    expect(summary.ok).toBe(false);
    expect(summary.parents[0]!.message).toMatch(/archive-partition public\.unreachable_p2026_05: .*127\.0\.0\.1:1/);
    expect(await partitionNames(sql, "public", "unreachable")).toHaveLength(6);
    expect((await fingerprint(sql, "unreachable")).rows).toBe(600);
  });

  it("retries a detach that cannot get its lock, reports it, and finishes on the next run", async () => {
    const ctx = await testJobContext(url, { archive: { location }, lockTimeoutMs: 50, ddlAttempts: 3, tables: [policy("locked")] }, { now: NOW });
    const blocker = await sql.reserve();
    try {
      await blocker`begin`;
      await blocker`lock table locked in share update exclusive mode`;
      const summary = await runJob(ctx, { job: "archive", dryRun: false });
      expect(summary.ok).toBe(false);
      expect(summary.parents[0]!.message).toMatch(/detach partition public\.locked_p2026_05: gave up after 3 attempts with lock_timeout 50 ms/);
    } finally {
      await blocker`rollback`;
      blocker.release();
    }
    expect(await partitionNames(sql, "public", "locked")).toHaveLength(6);
    const [record] = await sql`select state from partkeeper.archive where partition_name = 'locked_p2026_05'`;
    expect(record!.state).toBe("intent");

    const retry = await runJob(ctx, { job: "archive", dryRun: false });
    expect(retry.ok).toBe(true);
    expect(retry.parents[0]!.actions.map((a) => [a.action.partition.name, a.action.kind === "archive-partition" && a.action.resumeArchiveId !== null])).toEqual([
      ["locked_p2026_05", true],
      ["locked_p2026_06", false],
      ["locked_p2026_07", false],
    ]);
    expect(await partitionNames(sql, "public", "locked")).toHaveLength(3);
  });

  it("finishes an archive whose run crashed after the detach, before recording it", async () => {
    const ctx = await testJobContext(url, { archive: { location }, tables: [policy("crashed")] }, { now: NOW });
    await sql`alter table crashed detach partition crashed_p2026_05`;
    await sql`insert into partkeeper.archive (parent_schema, parent_name, partition_schema, partition_name, bound_expression, state)
      values ('public', 'crashed', 'public', 'crashed_p2026_05', ${"FOR VALUES FROM ('2026-05-01 00:00:00+00') TO ('2026-06-01 00:00:00+00')"}, 'intent')`;
    const rows = (await fingerprint(sql, "crashed_p2026_05")).rows;
    // The plan resumes it without a DETACH (it is detached already), then detaches the next one.
    const plan = await runJob(ctx, { job: "archive", dryRun: true });
    const [resume, next] = plan.parents[0]!.actions;
    expect(resume!.action.partition.name).toBe("crashed_p2026_05");
    expect(resume!.statements.join("\n")).not.toMatch(/DETACH/);
    expect(resume!.statements[0]).toMatch(/^CREATE OR REPLACE TRIGGER "partkeeper_archive_guard" .* ON "public"."crashed_p2026_05"/);
    expect(next!.statements[0]).toBe(`ALTER TABLE "public"."crashed" DETACH PARTITION "public"."crashed_p2026_06" CONCURRENTLY`);
    const summary = await runJob(ctx, { job: "archive", dryRun: false });
    expect(summary.ok).toBe(true);
    const resumed = summary.parents[0]!.actions[0]!;
    expect(resumed.action.partition.name).toBe("crashed_p2026_05");
    expect(resumed.archive).toMatchObject({ rows, finalState: "dropped" });
    const [gone] = await sql`select to_regclass('public.crashed_p2026_05') as t`;
    expect(gone!.t).toBeNull();
  });

  it("exports and verifies again a partition attached again after its archive was verified, and keeps it when it changed", async () => {
    const keep = await testJobContext(url, { archive: { location }, tables: [{ ...policy("reattached"), retentionKeepTable: true }] }, { now: NOW });
    expect((await runJob(keep, { job: "archive", dryRun: false })).ok).toBe(true);
    // As if the run had crashed after recording `verified`, and someone attached the tables again since.
    await sql`update partkeeper.archive set state = 'verified' where parent_name = 'reattached'`;
    await sql`alter table reattached attach partition reattached_p2026_05 for values from ('2026-05-01 00:00:00+00') to ('2026-06-01 00:00:00+00')`;
    await sql`alter table reattached attach partition reattached_p2026_06 for values from ('2026-06-01 00:00:00+00') to ('2026-07-01 00:00:00+00')`;
    const archivedRows = (await fingerprint(sql, "reattached_p2026_05")).rows;
    await sql`insert into reattached (id, ts) values (999999, '2026-05-15 00:00:00+00')`;

    const drop = await testJobContext(url, { archive: { location }, tables: [policy("reattached")] }, { now: NOW });
    const summary = await runJob(drop, { job: "archive", dryRun: false });
    expect(summary.ok).toBe(false);
    const [changed, unchanged] = summary.parents[0]!.actions;
    // Exported afresh under the next key and verified, but its manifest (written once) commits the
    // archive of the earlier content: a conflict for an operator, not a drop.
    expect(changed).toMatchObject({ status: "failed", errorName: "ArchiveConflictError" });
    expect(changed!.error).toMatch(/manifest\.json already commits an archive of other content \(\d+ rows/);
    expect(changed!.error).toContain(`(${archivedRows} rows, created`);
    expect(changed!.error).toContain(`holds now (${archivedRows + 1} rows)`);
    // The changed partition is kept with its new row and attached again: nothing vanished from the parent.
    const [kept] = await sql`select count(*)::int as n from reattached where id = 999999`;
    expect(kept!.n).toBe(1);
    expect(await partitionNames(sql, "public", "reattached")).toContain("reattached_p2026_05");
    expect(unchanged).toBeUndefined(); // the parent stops at its first failure
    const [record] = await sql`select state, attempt, object_key from partkeeper.archive where partition_name = 'reattached_p2026_05' and state <> 'kept'`;
    expect(record).toMatchObject({ state: "detached", attempt: 2, object_key: "public/reattached/public/reattached_p2026_05/data.2.parquet" });

    // Rerunning neither drops it nor writes another object.
    const again = await runJob(drop, { job: "archive", dryRun: false });
    expect(again.parents[0]!.actions[0]).toMatchObject({ status: "failed", errorName: "ArchiveConflictError" });
    const objects = await listObjects(drop.store!.location, "public/reattached/public/reattached_p2026_05/");
    expect(objects.map((o) => o.key.split("/").pop()).sort()).toEqual(["data.2.parquet", "data.parquet", "manifest.json"]);
  });
});