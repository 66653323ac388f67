import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lambdaBundleOptions } from "../infra/lib/lambda-bundle.ts";
import { jobDefinition, type JobName } from "../packages/core/src/jobs.ts";
import { lambdaContext, useLambdaEnvironment } from "./doors.ts";
import { createTestDatabase, useTestS3 } from "./helpers.ts";
import { partitionNames } from "./job-context.ts";
import { CGROUP_V1_MEMORY, createMemoryCgroup, memoryCgroupsAvailable, runBundledHandler, type HandlerRun } from "./memory-cgroup.ts";

/**
 * The archive and restore functions run within their memory (2048 MB), tested as deployed: each
 * handler is bundled by esbuild with SST's settings (infra/lib/lambda-bundle.ts), run from the bundle
 * in a child node process, and that process is capped by a cgroup v1 memory group of the function's
 * memory (swap off). DuckDB's CSV reader once asked for a 4 GiB buffer ("could not allocate block of
 * size 4.0 GiB", PLATFORM-NOTES): in-process tests on a 24 GiB machine never saw it.
 * Without a writable cgroup v1 memory controller the bundles still run, without the cap, and say so.
 */
const ROOT = path.resolve(import.meta.dirname, "..");
const ROWS = 300_000;
const LONG_ROWS = 4;
const PARTITION = "events_p2020_01";
const MiB = 1024 * 1024;

const memoryMb = (job: JobName) => jobDefinition(job).memoryMb;
const mib = (bytes: number | null | undefined) => (bytes == null ? "n/a" : `${(bytes / MiB).toFixed(0)} MiB`);

/** What a failed run said, for assertion messages. */
function explain(run: HandlerRun): string {
  const error = run.report?.error ? `${run.report.error.name}: ${run.report.error.message}` : "no report (the child died)";
  return `exit ${run.code} signal ${run.signal} oomKills ${run.oomKills}; ${error}; stderr: ${run.stderr.slice(-2000)}`;
}

describe("archive and restore Lambda handlers, bundled, within the function's memory", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();
  const configure = useLambdaEnvironment();
  const config = {
    archive: { location },
    tables: [{ table: "events", strategy: "range-time", interval: "month", retention: "3 months", defaultPartition: false }],
  };
  const bundleDir = path.join(ROOT, ".partkeeper", `lambda-memory-${randomUUID().slice(0, 8)}`);
  const bundles: Partial<Record<JobName, string>> = {};
  const figures: string[] = [];
  let original: { n: number; digest: string };

  /** The environment a deployed function gets (doors.ts), plus the S3 endpoint and credentials. */
  function functionEnvironment(job: JobName): Record<string, string | undefined> {
    configure(url, config);
    const pick = ["DATABASE_URL", "PARTKEEPER_CONFIG", "POWERTOOLS_METRICS_NAMESPACE", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"];
    return {
      ...Object.fromEntries(pick.map((k) => [k, process.env[k]])),
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb(job)),
      NODE_NO_WARNINGS: "1",
    };
  }

  /** Runs the job's bundle in a memory group of the function's memory; the group is removed after. */
  async function invokeBundled(job: JobName, event: unknown): Promise<HandlerRun> {
    const limitBytes = memoryMb(job) * MiB;
    const group = createMemoryCgroup(limitBytes);
    if ("reason" in group) {
      // On a machine that can apply the limit, not applying it would make this test prove nothing.
      if (memoryCgroupsAvailable()) throw new Error(`the memory limit could not be applied: ${group.reason}`);
      console.warn(`WARNING: ${job} handler runs WITHOUT a ${memoryMb(job)} MB memory limit: ${group.reason}`);
    }
    const cgroup = "reason" in group ? null : group;
    try {
      if (cgroup) expect(cgroup.limitBytes).toBe(limitBytes);
      const run = await runBundledHandler({
        bundle: bundles[job]!,
        event,
        context: { ...lambdaContext(`partkeeper-test-${job}`), memoryLimitInMB: String(memoryMb(job)), getRemainingTimeInMillis: () => 840_000 },
        env: functionEnvironment(job),
        cgroup,
      });
      const figure =
        `${job}: ${run.report?.ok ? "ok" : "FAILED"} in ${run.report?.durationMs ?? "?"} ms (process ${run.wallMs} ms), ` +
        `cgroup peak ${mib(run.peakBytes)} of ${cgroup ? mib(cgroup.limitBytes) : "no limit"} (memory.max_usage_in_bytes ${run.peakBytes ?? "n/a"}), ` +
        `max RSS ${mib(run.report ? run.report.maxRssKb * 1024 : null)}, OOM kills ${run.oomKills ?? "n/a"}`;
      console.log(figure);
      figures.push(figure);
      if (cgroup) {
        // The kernel put the child in the group, so the limit applied to everything it allocated.
        expect(run.report?.memoryCgroup ?? "", explain(run)).toMatch(new RegExp(`:memory:${cgroup.path.slice(CGROUP_V1_MEMORY.length)}$`));
        expect(run.peakBytes).toBeGreaterThan(0);
        expect(run.peakBytes).toBeLessThanOrEqual(limitBytes);
      }
      return run;
    } finally {
      cgroup?.remove();
    }
  }

  beforeAll(async () => {
    const now = new Date();
    const month = (offset: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1)).toISOString();
    const data = sql.unsafe(`
      create table events (id bigint not null, tenant uuid not null, created_at timestamptz not null, kind text not null,
                           payload jsonb, amount numeric(12,2)) partition by range (created_at);
      create table ${PARTITION} partition of events for values from ('2020-01-01 00:00:00+00') to ('2020-02-01 00:00:00+00');
      create table events_current partition of events for values from ('${month(0)}') to ('${month(1)}');
      insert into events
        select g, md5((g % 1000)::text)::uuid, timestamptz '2020-01-01' + g * interval '8.9 seconds',
               (array['click', 'view', 'buy, "now"'])[g % 3 + 1],
               jsonb_build_object('g', g, 'path', '/p/' || (g % 97), 'ok', g % 2 = 0), (g % 100000) / 100.0
        from generate_series(1, ${ROWS}) g;
      -- 4 MB text values (with quotes and commas, longer still as CSV).
      insert into events
        select ${ROWS} + g, gen_random_uuid(), timestamptz '2020-01-15', rpad('', 4 * 1024 * 1024, 'a 4 MB value, "quoted"; '), '{}', 1
        from generate_series(1, ${LONG_ROWS}) g;
      insert into events select 0, gen_random_uuid(), now(), 'current', null, null;
    `);
    const bundled = (["archive", "restore"] as const).map(async (job) => {
      const handler = jobDefinition(job).handler; // packages/functions/src/<job>.handler
      const outfile = path.join(bundleDir, job, "index.mjs");
      await build(lambdaBundleOptions(path.join(ROOT, handler.replace(/\.[^.]+$/, ".ts")), outfile));
      bundles[job] = outfile;
    });
    await mkdir(bundleDir, { recursive: true });
    await Promise.all([data, ...bundled]);
    [original] = (await sql`select count(*)::int as n, sum(hashtextextended(e::text, 0))::text as digest from ${sql(PARTITION)} e`) as unknown as [
      { n: number; digest: string },
    ];
    expect(original.n).toBe(ROWS + LONG_ROWS);
  });

  afterAll(async () => {
    console.log(`lambda memory figures (${ROWS} rows + ${LONG_ROWS} x 4 MB):\n  ${figures.join("\n  ")}`);
    await rm(bundleDir, { recursive: true, force: true });
  });

  it(`archives ${ROWS} rows and 4 MB values on { job: "archive" } within ${memoryMb("archive")} MB, then drops the partition`, async () => {
    const run = await invokeBundled("archive", { job: "archive" });
    expect(run.report?.ok, explain(run)).toBe(true);
    expect(run.code, explain(run)).toBe(0);
    const summary = run.report!.result as { ok: boolean; parents: Array<{ actions: Array<{ archive: { rows: number; finalState: string } }> }> };
    expect(summary.ok).toBe(true);
    expect(summary.parents[0]!.actions.map((a) => a.archive)).toEqual([expect.objectContaining({ rows: ROWS + LONG_ROWS, finalState: "dropped" })]);
    expect(await partitionNames(sql, "public", "events")).toEqual(["events_current"]);
    const [gone] = await sql`select to_regclass(${`public.${PARTITION}`}) as t`;
    expect(gone!.t).toBeNull();
    const records = await sql`select state from partkeeper.archive where partition_name = ${PARTITION}`;
    expect(records.map((r) => r.state)).toEqual(["dropped"]);
  });

  it(`restores the archived partition into a side table on { job: "restore" } within ${memoryMb("restore")} MB, every row`, async () => {
    const run = await invokeBundled("restore", { job: "restore", parent: { schema: "public", table: "events" }, partition: PARTITION, mode: "side-table" });
    expect(run.report?.ok, explain(run)).toBe(true);
    expect(run.code, explain(run)).toBe(0);
    const result = run.report!.result as { ok: boolean; rows: number; status: string; target: { schema: string; name: string } };
    expect(result).toMatchObject({ ok: true, rows: ROWS + LONG_ROWS, status: "restored", target: { schema: "public", name: `${PARTITION}_restored` } });
    const [restored] = await sql`select count(*)::int as n, sum(hashtextextended(e::text, 0))::text as digest from ${sql(`${PARTITION}_restored`)} e`;
    expect(restored).toEqual(original);
  });
});
