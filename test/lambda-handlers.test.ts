import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { handler as archive } from "../packages/functions/src/archive.ts";
import { handler as maintain } from "../packages/functions/src/maintain.ts";
import { handler as migrate } from "../packages/functions/src/migrate.ts";
import { handler as refreshStats } from "../packages/functions/src/refresh-stats.ts";
import { invokeHandler, useLambdaEnvironment } from "./doors.ts";
import { createTestDatabase, useTestS3 } from "./helpers.ts";
import { partitionNames } from "./job-context.ts";
import { createTableToPartition, migrationConfig, relationKind } from "./migration-fixture.ts";

/** Invokes a handler (default: maintain) with its output captured. */
function invoke(event: unknown, handler: (event: unknown, context: Context) => Promise<unknown> = maintain) {
  return invokeHandler(handler, event);
}

interface Emf {
  _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

describe("Lambda maintain handler (EventBridge Scheduler event, real database)", async () => {
  const { url, sql } = await createTestDatabase();
  await sql`create table events (id bigint not null, ts timestamptz not null) partition by range (ts)`;
  const setEnvironment = useLambdaEnvironment();
  const configure = () =>
    setEnvironment(url, { tables: [{ table: "events", strategy: "range-time", interval: "day", premake: 2, defaultPartition: true }] });

  it("plans on { dryRun: true } without changing anything", async () => {
    configure();
    const { result, error } = await invoke({ job: "maintain", dryRun: true });
    expect(error).toBeUndefined();
    expect((result as { dryRun: boolean; ok: boolean }).dryRun).toBe(true);
    expect(await partitionNames(sql, "public", "events")).toEqual([]);
  });

  it("runs the job on { job: 'maintain' }, logs JSON and emits valid EMF metrics", async () => {
    configure();
    const { result, error, lines } = await invoke({ job: "maintain" });
    expect(error).toBeUndefined();
    const summary = result as { ok: boolean; parents: Array<{ actions: unknown[] }> };
    expect(summary.ok).toBe(true);
    expect(summary.parents[0]!.actions).toHaveLength(4); // today, 2 premade, default partition
    expect((await partitionNames(sql, "public", "events")).length).toBe(4);

    const logs = lines.filter((l) => !("_aws" in l));
    expect(logs.some((l) => l.message === "maintain finished" && l.level === "INFO" && l.job === "maintain")).toBe(true);

    const emf = lines.filter((l): l is Emf => "_aws" in l);
    expect(emf.length).toBeGreaterThan(0);
    for (const doc of emf) {
      const [directive] = doc._aws.CloudWatchMetrics;
      expect(directive!.Namespace).toBe("partkeeper-test");
      expect(typeof doc._aws.Timestamp).toBe("number");
      for (const dims of directive!.Dimensions) for (const d of dims) expect(doc[d]).toEqual(expect.any(String));
      for (const m of directive!.Metrics) expect(doc[m.Name]).toEqual(expect.any(Number));
    }
    const value = (name: string, parent?: string) =>
      emf.find((d) => name in d && (parent === undefined || d.Parent === parent))?.[name];
    expect(value("JobSucceeded")).toBe(1);
    expect(value("PartitionsCreated", "public.events")).toBe(3);
    expect(value("PartitionsAhead", "public.events")).toBe(2);
    expect(value("DefaultPartitionRows", "public.events")).toBe(0);
    // The job-level values the alarms watch carry exactly the dimensions {service, Job}.
    for (const name of ["PartitionsAheadMin", "DefaultPartitionRows", "JobSucceeded"]) {
      const doc = emf.find((d) => name in d && !("Parent" in d));
      expect(doc?._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([["service", "Job"]]);
    }
    expect(value("PartitionsAheadMin")).toBe(2);
    expect(emf.every((d) => d.Job === "maintain")).toBe(true);
  });

  it("fails a bad event before any SQL, naming the field", async () => {
    configure();
    const { error, lines } = await invoke({ job: "maintain", dryRun: "yes" });
    expect(error?.message).toMatch(/dryRun: .*boolean/i);
    const emf = lines.filter((l): l is Emf => "_aws" in l);
    expect(emf.some((d) => d.JobFailed === 1)).toBe(true);
  });

  it("fails an event whose tables are not in the config, naming them, before any change", async () => {
    configure();
    const before = await partitionNames(sql, "public", "events");
    const { error, lines } = await invoke({ job: "maintain", tables: [{ table: "events" }, { table: "Events" }, { schema: "audit", table: "events" }] });
    expect(error?.name).toBe("ConfigError");
    expect(error?.message).toBe(
      "public.Events, audit.events are not tables in the config: name a configured parent as schema.table, exactly as configured (case-sensitive), " +
        "or add it to the config's tables; configured: public.events",
    );
    expect(lines.filter((l) => "_aws" in l && "JobFailed" in l).map((d) => d.JobFailed)).toEqual([1]);
    expect(await partitionNames(sql, "public", "events")).toEqual(before);
  });

  it.each([null, "maintain", 42, ["maintain"], true])("fails a non-object event (%j) instead of running the job", async (event) => {
    configure();
    const before = await partitionNames(sql, "public", "events");
    await sql`drop table if exists events_default`; // a full run would create it again
    const { error } = await invoke(event);
    expect(error?.message).toBe(
      `invalid maintain event: expected a JSON object such as {"job":"maintain"}, got ${event === null ? "null" : Array.isArray(event) ? "an array" : typeof event}: ` +
        "fix the payload of the invocation or the schedule's target input",
    );
    expect(await partitionNames(sql, "public", "events")).toEqual(before.filter((n) => n !== "events_default"));
  });

  it("fails the invocation when a parent fails, emitting JobFailed once", async () => {
    configure();
    process.env.PARTKEEPER_CONFIG = JSON.stringify({ tables: [{ table: "no_such_table", strategy: "hash", modulus: 2 }] });
    const { error, lines } = await invoke({ job: "maintain" });
    expect(error?.message).toMatch(/maintain failed for some parents/);
    const failed = lines.filter((l) => "_aws" in l && "JobFailed" in l);
    expect(failed.map((d) => d.JobFailed)).toEqual([1]);
  });

  it("fails clearly when the config in the environment is invalid", async () => {
    configure();
    process.env.PARTKEEPER_CONFIG = JSON.stringify({ tables: [{ table: "events", strategy: "range-time", interval: "fortnight" }] });
    const { error } = await invoke({ job: "maintain" });
    expect(error?.message).toMatch(/tables\.0\.interval/);
  });

  it("fails clearly when DATABASE_URL is not a postgres:// URL, without echoing it", async () => {
    configure();
    process.env.DATABASE_URL = "host=db.internal user=app password=s3cret";
    const { error } = await invoke({ job: "maintain" });
    expect(error?.message).toBe(
      "DATABASE_URL is not a URL: use postgres://user:password@host:5432/database (percent-encode special characters in the user name and password)",
    );
  });
});

describe("Lambda archive handler (real database, real S3 API)", async () => {
  const { url, sql } = await createTestDatabase();
  await sql.unsafe(`
    create table "Audit Log" (id bigint not null, at timestamptz not null, detail jsonb) partition by range (at);
    create table "Audit Log_p2020_01_01" partition of "Audit Log" for values from ('2020-01-01 00:00:00+00') to ('2020-01-02 00:00:00+00');
    insert into "Audit Log" select g, timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second', jsonb_build_object('g', g)
      from generate_series(1, 500) g;
  `);

  it("archives on { job: 'archive' } and returns the summary with rows and object keys", async () => {
    const location = useTestS3(); // the other describe's afterEach resets the environment
    process.env.DATABASE_URL = url;
    process.env.PARTKEEPER_ARCHIVE = location;
    process.env.PARTKEEPER_CONFIG = JSON.stringify({
      tables: [{ table: "Audit Log", strategy: "range-time", interval: "day", retention: "30 days", defaultPartition: false }],
    });
    const { result, error, lines } = await invoke({ job: "archive" }, archive);
    expect(error).toBeUndefined();
    const summary = result as { ok: boolean; parents: Array<{ actions: Array<{ archive: { rows: number; objectUrl: string; finalState: string } }> }> };
    expect(summary.ok).toBe(true);
    expect(summary.parents[0]!.actions[0]!.archive).toMatchObject({
      rows: 500,
      finalState: "dropped",
      objectUrl: `${location}/public/Audit%20Log/public/Audit%20Log_p2020_01_01/data.parquet`,
    });
    const [gone] = await sql`select to_regclass('public."Audit Log_p2020_01_01"') as t`;
    expect(gone!.t).toBeNull();
    const emf = lines.filter((l): l is Emf => "_aws" in l);
    expect(emf.find((d) => "ArchiveVerificationFailed" in d && !("Parent" in d))?.ArchiveVerificationFailed).toBe(0);
    expect(emf.find((d) => "PartitionsArchived" in d)?.PartitionsArchived).toBe(1);
  });

  it("refuses an event meant for another job", async () => {
    const { error } = await invoke({ job: "maintain" }, archive);
    expect(error?.message).toMatch(/job: must be "archive"/);
  });
});

describe("Lambda migrate handler (scheduled and on-demand events, real database)", async () => {
  const { url, sql } = await createTestDatabase();
  await createTableToPartition(sql, "Orders", 3000);
  const setEnvironment = useLambdaEnvironment();
  const configure = () => setEnvironment(url, migrationConfig([{ id: "orders-by-month", table: "Orders" }]));
  type Summary = { ok: boolean; action: string; migrations: Array<{ id: string; status: string; stateBefore: string; stateAfter: string; rowsCopied: number }> };

  it("advances every migration on the scheduled event { job: 'migrate' }, stopping before a manual swap", async () => {
    configure();
    const { result, error, lines } = await invoke({ job: "migrate" }, migrate);
    expect(error).toBeUndefined();
    expect(result as Summary).toMatchObject({ ok: true, action: "run", migrations: [{ id: "orders-by-month", stateBefore: "new", stateAfter: "verified", rowsCopied: 3000 }] });
    expect(await relationKind(sql, "Orders")).toBe("r");
    const emf = lines.filter((l): l is Emf => "_aws" in l);
    expect(emf.find((d) => "JobSucceeded" in d)).toMatchObject({ JobSucceeded: 1, Job: "migrate" });
    expect(emf.find((d) => d.Parent === "public.Orders" && "MigrationRowsCopied" in d)?.MigrationRowsCopied).toBe(3000);
  });

  it("swaps on demand on { action: 'swap', id }", async () => {
    configure();
    const { result, error } = await invoke({ job: "migrate", action: "swap", id: "orders-by-month" }, migrate);
    expect(error).toBeUndefined();
    expect(result as Summary).toMatchObject({ ok: true, action: "swap", migrations: [{ stateBefore: "verified", stateAfter: "swapped" }] });
    expect(await relationKind(sql, "Orders")).toBe("p");
    expect((await sql`select count(*)::int as n from "Orders"`)[0]!.n).toBe(3000);
  });

  it("fails a bad event before any SQL, naming the field", async () => {
    configure();
    const action = await invoke({ job: "migrate", action: "explode", id: "orders-by-month" }, migrate);
    expect(action.error?.message).toMatch(/^invalid migrate event:\s+action: must be one of run, verify, swap, rollback, finalize, pause, resume/);
    const force = await invoke({ job: "migrate", action: "finalize", id: "orders-by-month", force: "yes" }, migrate);
    expect(force.error?.message).toMatch(/force: .*boolean/i);
    const extra = await invoke({ job: "migrate", table: "Orders" }, migrate);
    expect(extra.error?.message).toMatch(/Unrecognized key: "table"/);
    expect(await relationKind(sql, "Orders")).toBe("p");
  });

  it("fails the invocation for an unknown id or a refused action, emitting JobFailed once", async () => {
    configure();
    const unknown = await invoke({ job: "migrate", action: "rollback", id: "nope" }, migrate);
    expect(unknown.error?.message).toBe('"nope" is not a migration id of the config (migrations: orders-by-month)');
    const refused = await invoke({ job: "migrate", action: "finalize", id: "orders-by-month" }, migrate);
    expect(refused.error?.message).toMatch(/migrate failed for some parents/);
    expect(refused.lines.filter((l) => "_aws" in l && "JobFailed" in l).map((d) => d.JobFailed)).toEqual([1]);
    expect(await relationKind(sql, "Orders")).toBe("p");
  });
});

describe("Lambda refresh-stats handler (scheduled event, real database)", async () => {
  const { url, sql } = await createTestDatabase();
  await sql`create table events (id bigint not null, kind text not null, ts timestamptz not null) partition by range (ts)`;
  await sql`create table events_2026 partition of events for values from ('2026-01-01') to ('2027-01-01')`;
  await sql`insert into events select g, 'k' || (g % 3), timestamptz '2026-06-01' + g * interval '1 minute' from generate_series(1, 1000) g`;
  await sql`create materialized view event_kinds as select kind, count(*)::int as n from events group by kind`;
  await sql`create unique index on event_kinds (kind)`;
  const setEnvironment = useLambdaEnvironment();
  const configure = (views: string[]) =>
    setEnvironment(url, {
      tables: [{ table: "events", strategy: "range-time", interval: "year", premake: 0, defaultPartition: false }],
      stats: { materializedViews: views.map((view) => ({ view })) },
    });

  it("refreshes and analyzes on { job: 'refresh-stats' } and emits valid EMF: durations per view in ms, the view's age, job-level counts", async () => {
    configure(["event_kinds"]);
    const { result, error, lines } = await invoke({ job: "refresh-stats" }, refreshStats);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ ok: true, views: [{ view: { name: "event_kinds" }, status: "ok", mode: "concurrently", rows: 3 }] });
    const emf = lines.filter((l): l is Emf => "_aws" in l);
    for (const doc of emf) {
      const [directive] = doc._aws.CloudWatchMetrics;
      expect(directive!.Namespace).toBe("partkeeper-test");
      for (const dims of directive!.Dimensions) for (const d of dims) expect(doc[d]).toEqual(expect.any(String));
      for (const m of directive!.Metrics) expect(doc[m.Name]).toEqual(expect.any(Number));
    }
    const metric = (name: string) => emf.find((d) => name in d)!;
    expect(metric("MaterializedViewRefreshMs")).toMatchObject({ View: "public.event_kinds", Job: "refresh-stats" });
    expect(metric("MaterializedViewRefreshMs")._aws.CloudWatchMetrics[0]!.Metrics).toEqual([{ Name: "MaterializedViewRefreshMs", Unit: "Milliseconds" }]);
    expect(metric("MaterializedViewAgeSeconds")).toMatchObject({ MaterializedViewAgeSeconds: 0, View: "public.event_kinds" });
    expect(metric("MaterializedViewRefreshFailed").MaterializedViewRefreshFailed).toBe(0);
    // The parent, and on PostgreSQL 18+ its partition too (before 18 the parent's ANALYZE covers it).
    const major = Math.floor(Number((await sql`select current_setting('server_version_num') as v`)[0]!.v) / 10000);
    expect(metric("RelationsAnalyzed").RelationsAnalyzed).toBe(major >= 18 ? 2 : 1);
    expect(metric("JobSucceeded")).toMatchObject({ JobSucceeded: 1, Job: "refresh-stats" });
  });

  it("fails the invocation when a view cannot be refreshed, counting it, after refreshing the others", async () => {
    configure(["no_such_view", "event_kinds"]);
    const { error, lines } = await invoke({ job: "refresh-stats" }, refreshStats);
    expect(error?.message).toMatch(/refresh-stats failed/);
    const emf = lines.filter((l): l is Emf => "_aws" in l);
    expect(emf.find((d) => "MaterializedViewRefreshFailed" in d)?.MaterializedViewRefreshFailed).toBe(1);
    expect(emf.find((d) => "MaterializedViewRefreshMs" in d)?.View).toBe("public.event_kinds");
    expect(lines.filter((l) => "_aws" in l && "JobFailed" in l).map((d) => d.JobFailed)).toEqual([1]);
  });

  it("fails a bad event before any SQL, naming the field", async () => {
    configure(["event_kinds"]);
    const { error } = await invoke({ job: "refresh-stats", dryRun: "yes" }, refreshStats);
    expect(error?.message).toMatch(/^invalid refresh-stats event:\s+dryRun: .*boolean/i);
  });
});
