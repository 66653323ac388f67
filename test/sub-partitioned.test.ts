import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./doors.ts";
import { createTestDatabase } from "./helpers.ts";
import { partitionNames } from "./job-context.ts";

/**
 * A parent whose partitions are themselves partitioned is refused by name in plan, run and status
 * (never silently skipped: it once kept expired rows while every door said OK, and got plain
 * tables as new months). The other parents of the same run are still managed.
 */
describe("a sub-partitioned parent through the CLI", async () => {
  const { url, sql } = await createTestDatabase();
  await sql.unsafe(`
    create table readings (sensor int not null, at timestamptz not null, value numeric) partition by range (at);
    create table readings_p2020_01 partition of readings for values from ('2020-01-01 00:00:00+00') to ('2020-02-01 00:00:00+00')
      partition by hash (sensor);
    create table readings_p2020_01_h0 partition of readings_p2020_01 for values with (modulus 2, remainder 0);
    create table readings_p2020_01_h1 partition of readings_p2020_01 for values with (modulus 2, remainder 1);
    create table readings_p2020_02 partition of readings for values from ('2020-02-01 00:00:00+00') to ('2020-03-01 00:00:00+00')
      partition by list (sensor);
    create table readings_p2020_02_all partition of readings_p2020_02 default;
    insert into readings select g % 10, timestamptz '2020-01-01 00:00:00+00' + g * interval '1 minute', g
      from generate_series(0, 59999) g; -- expired for years: January and most of February 2020
    create table healthy (id bigint not null, at date not null) partition by range (at);
  `);
  const dir = await mkdtemp(path.join(os.tmpdir(), "partkeeper-sub-"));
  const config = path.join(dir, "partkeeper.config.json");
  await writeFile(
    config,
    JSON.stringify({
      tables: [
        { table: "readings", strategy: "range-time", interval: "month", premake: 1, retention: "6 months", archive: { enabled: false }, defaultPartition: false },
        { table: "healthy", strategy: "range-time", interval: "month", premake: 1, defaultPartition: false },
      ],
    }),
  );
  const refusal =
    "public.readings has sub-partitioned partitions (readings_p2020_01, readings_p2020_02): sub-partitioning is not supported, " +
    "partkeeper manages parents whose partitions are plain tables; remove this table from the config and manage its partitions another way";
  const before = ["readings_p2020_01", "readings_p2020_02"];

  it("plan reports the parent failed, naming the sub-partitioned partitions, and plans the others", async () => {
    const { code, stdout, stderr } = await runCli(["plan", "--config", config], { DATABASE_URL: url });
    expect(code).toBe(1);
    expect(stdout).toContain(`public.readings: FAILED: ${refusal}\n`);
    expect(stdout).toMatch(/public\.healthy: would create 2/);
    expect(stderr).toBe(`partkeeper: 1 of 2 parent(s) failed; first: public.readings: ${refusal}\n`);
  });

  it("run fails the parent, changes nothing under it, and still manages the others", async () => {
    const { code, stdout } = await runCli(["run", "--config", config, "--json"], { DATABASE_URL: url });
    expect(code).toBe(1);
    const summary = JSON.parse(stdout) as { ok: boolean; parents: Array<{ status: string; message?: string; actions: unknown[] }> };
    expect(summary.ok).toBe(false);
    expect(summary.parents[0]).toEqual({ parent: { schema: "public", name: "readings" }, status: "failed", message: refusal, actions: [] });
    expect(summary.parents[1]!.status).toBe("ok");
    expect(await partitionNames(sql, "public", "readings")).toEqual(before);
    const [rows] = await sql`select count(*)::int as n from readings`;
    expect(rows!.n).toBe(60000);
    expect(await partitionNames(sql, "public", "healthy")).toHaveLength(2);
    const [run] = await sql`select status, error from partkeeper.job_run order by id desc limit 1`;
    expect(run).toEqual({ status: "failed", error: `public.readings: ${refusal}` });
  });

  it("status reports the problem and exits 1", async () => {
    const { code, stdout } = await runCli(["status", "--config", config], { DATABASE_URL: url });
    expect(code).toBe(1);
    expect(stdout).toContain(`public.readings (range-time): PROBLEM: ${refusal}\n`);
    expect(stdout).toMatch(/^public\.healthy \(range-time\): partitions 2, ahead 1 until \d{4}-\d{2}-01, /m);
    const json = await runCli(["status", "--config", config, "--json"], { DATABASE_URL: url });
    expect(JSON.parse(json.stdout).parents[0].problem).toBe(refusal);
  });
});
