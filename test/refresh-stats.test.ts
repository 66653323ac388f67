import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { runJob, runRefreshStats, type ConfigInput, type RefreshStatsSummary } from "@partkeeper/core";
import { createTestDatabase, eventually } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";

/**
 * The refresh-stats job on a real database: materialized views refreshed (concurrently where they
 * can be, readers never blocked), never two refreshes of one view at once, each bad view reported
 * while the others are refreshed, a refresh over budget stopped and first in line next run; parents
 * and never-analyzed partitions analyzed, so a parent has statistics where it had none.
 */

const TABLES: ConfigInput["tables"] = [{ table: "events", strategy: "range-time", interval: "month", premake: 2 }];

/** A view whose refresh takes `seconds` (pg_sleep once per refresh), with a unique index unless `unique` is false. */
async function createView(sql: Awaited<ReturnType<typeof createTestDatabase>>["sql"], name: string, options: { seconds?: number; unique?: boolean } = {}) {
  const slow = options.seconds ? `, (select pg_sleep(${options.seconds})) s` : "";
  await sql.unsafe(`create materialized view ${name} as select e.kind, count(*)::int as n from events e${slow} group by e.kind`);
  if (options.unique !== false) await sql.unsafe(`create unique index on ${name} (kind)`);
}

const byView = (summary: RefreshStatsSummary, name: string) => summary.views.find((v) => v.view.name === name)!;

describe("refresh-stats", async () => {
  const { url, sql } = await createTestDatabase();
  await sql`create table events (id bigint generated always as identity, kind text not null, at timestamptz not null) partition by range (at)`;
  const config = (views: NonNullable<ConfigInput["stats"]>["materializedViews"], stats: Partial<NonNullable<ConfigInput["stats"]>> = {}): ConfigInput => ({
    tables: TABLES,
    stats: { materializedViews: views, ...stats },
  });
  const maintain = await testJobContext(url, config([]));
  expect((await runJob(maintain, { job: "maintain", dryRun: false })).ok).toBe(true);
  await sql`insert into events (kind, at) select 'kind' || (g % 7), timestamptz '2026-11-01' + g * interval '1 minute' from generate_series(1, 20000) g`;

  it("analyzes the parent and its never-analyzed partitions: the parent has statistics where it had none", async () => {
    const inherited = async () => (await sql`select count(*)::int as n from pg_stats where schemaname = 'public' and tablename = 'events' and inherited`)[0]!.n;
    expect(await inherited()).toBe(0);
    // Before PostgreSQL 15 the inserts reach pg_stat_* late; counted after the analyze, they would make the partition "changed" again.
    const counted = async () => ((await sql`select n_mod_since_analyze::int as n from pg_stat_all_tables where relid = 'events_p2026_11'::regclass`)[0]!.n === 20000 ? true : null);
    expect(await eventually(counted)).toBe(true);
    const ctx = await testJobContext(url, config([]));
    const summary = await runRefreshStats(ctx, { dryRun: false });
    expect(summary.ok, JSON.stringify(summary)).toBe(true);
    expect(summary.analyzed.filter((a) => a.kind === "parent").map((a) => a.relation.name)).toEqual(["events"]);
    expect(await inherited()).toBeGreaterThan(0);
    const [partition] = await sql`select reltuples::int as rows from pg_class where oid = 'events_p2026_11'::regclass`;
    expect(partition!.rows).toBe(20000);
    const lastAnalyze = async () => (await sql`select greatest(last_analyze, last_autoanalyze) as at from pg_stat_all_tables where relid = 'events_p2026_11'::regclass`)[0]!.at as Date | null;
    expect(await eventually(lastAnalyze)).not.toBeNull();
    const [recorded] = await sql`select count(*)::int as n from partkeeper.stats_refresh where kind = 'analyze' and status = 'ok'`;
    expect(recorded!.n).toBe(summary.analyzed.length);

    // Within parentsEvery (1 day) nothing is analyzed again.
    const again = await runRefreshStats(ctx, { dryRun: false });
    expect(again.analyzed).toEqual([]);
  });

  it("refreshes a view with a unique index CONCURRENTLY: a reader in another session is never blocked", async () => {
    await createView(sql, "event_counts", { seconds: 1 });
    await sql`insert into events (kind, at) values ('new kind', '2026-11-20')`;
    const ctx = await testJobContext(url, config([{ view: "event_counts" }]));
    let reading = true;
    const latencies: number[] = [];
    const reader = (async () => {
      while (reading) {
        const started = performance.now();
        await sql`select count(*) from event_counts`;
        latencies.push(performance.now() - started);
        await sleep(20);
      }
    })();
    const summary = await runRefreshStats(ctx, { dryRun: false });
    reading = false;
    await reader;
    expect(byView(summary, "event_counts")).toMatchObject({ status: "ok", mode: "concurrently", rows: 8 });
    expect(byView(summary, "event_counts").durationMs).toBeGreaterThanOrEqual(1000);
    expect(latencies.length).toBeGreaterThan(10);
    expect(Math.max(...latencies)).toBeLessThan(500);
    const [row] = await sql`select n from event_counts where kind = 'new kind'`;
    expect(row!.n).toBe(1);
  });

  it("never runs two refreshes of one view at once: the second run skips it and says so", async () => {
    await createView(sql, "slow_counts", { seconds: 2 });
    const ctx = await testJobContext(url, config([{ view: "slow_counts" }]));
    const first = runRefreshStats(ctx, { dryRun: false });
    // The first run holds the view's advisory lock once its refresh started.
    for (let i = 0; i < 200; i++) {
      const [running] = await sql`select count(*)::int as n from pg_stat_activity where query like 'refresh materialized view%slow_counts%' and state = 'active'`;
      if (running!.n > 0) break;
      await sleep(10);
    }
    const second = await runRefreshStats(ctx, { dryRun: false });
    expect(byView(second, "slow_counts")).toMatchObject({ status: "skipped" });
    expect(byView(second, "slow_counts").message).toContain("another partkeeper run is refreshing public.slow_counts");
    expect(byView(await first, "slow_counts")).toMatchObject({ status: "ok" });
  });

  it("reports a view that does not exist, a table, and concurrently 'always' without a unique index, and refreshes the others", async () => {
    await sql`create table not_a_view (kind text)`;
    await createView(sql, "no_unique_index", { unique: false });
    await createView(sql, "good_counts");
    const ctx = await testJobContext(
      url,
      config([{ view: "missing_view" }, { view: "not_a_view" }, { view: "no_unique_index", concurrently: "always" }, { view: "good_counts" }]),
    );
    const before = await sql`select count(*)::int as n from good_counts`;
    const summary = await runRefreshStats(ctx, { dryRun: false });
    expect(summary.ok).toBe(false);
    expect(byView(summary, "missing_view")).toMatchObject({ status: "failed", message: expect.stringContaining("public.missing_view does not exist") });
    expect(byView(summary, "not_a_view")).toMatchObject({ status: "failed", message: expect.stringContaining("public.not_a_view is a table, not a materialized view") });
    expect(byView(summary, "no_unique_index")).toMatchObject({ status: "failed", message: expect.stringContaining('has no unique index on plain columns without WHERE, and concurrently is "always"') });
    expect(byView(summary, "good_counts")).toMatchObject({ status: "ok", mode: "concurrently" });
    expect(before[0]!.n).toBeGreaterThan(0);
    const [status] = await sql`select last_status, last_message from partkeeper.materialized_views where view_name = 'missing_view'`;
    expect(status).toMatchObject({ last_status: "failed", last_message: expect.stringContaining("does not exist") });
  });

  it("refreshes a view without a unique index plainly under auto, with a warning in the summary", async () => {
    const ctx = await testJobContext(url, config([{ view: "no_unique_index" }]));
    const summary = await runRefreshStats(ctx, { dryRun: false });
    expect(byView(summary, "no_unique_index")).toMatchObject({ status: "ok", mode: "plain", message: expect.stringContaining("readers wait for the refresh") });
  });

  it("stops a refresh that exceeds the time budget, reports it, and refreshes it first on the next run", async () => {
    await createView(sql, "over_budget", { seconds: 3 });
    const tight = await testJobContext(url, config([{ view: "good_counts" }, { view: "over_budget" }], { budgetSeconds: 1 }));
    const stopped = await runRefreshStats(tight, { dryRun: false });
    expect(stopped.ok).toBe(true);
    expect(byView(stopped, "over_budget")).toMatchObject({ status: "stopped", message: expect.stringContaining("first in line on the next run") });
    // Never refreshed goes first; the budget is spent before good_counts' turn.
    expect(stopped.views.map((v) => [v.view.name, v.status])).toEqual([
      ["over_budget", "stopped"],
      ["good_counts", "deferred"],
    ]);

    const roomy = await testJobContext(url, config([{ view: "good_counts" }, { view: "over_budget" }], { budgetSeconds: 60 }));
    const resumed = await runRefreshStats(roomy, { dryRun: false });
    expect(resumed.views[0]).toMatchObject({ view: { name: "over_budget" }, status: "ok" });
  });

  it("skips a view refreshed more recently than its every, and plans without changing anything in a dry run", async () => {
    const ctx = await testJobContext(url, config([{ view: "good_counts", every: "1 day" }]));
    const summary = await runRefreshStats(ctx, { dryRun: false });
    expect(byView(summary, "good_counts")).toMatchObject({ status: "not-due" });
    const dry = await testJobContext(url, config([{ view: "event_counts" }]));
    const [before] = await sql`select count(*)::int as n from partkeeper.stats_refresh`;
    const planned = await runRefreshStats(dry, { dryRun: true });
    expect(byView(planned, "event_counts")).toMatchObject({ status: "planned" });
    const [after] = await sql`select count(*)::int as n from partkeeper.stats_refresh`;
    expect(after!.n).toBe(before!.n);
  });
});
