import { spawn } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import postgres from "postgres";
import { afterAll, describe, expect, inject, it } from "vitest";
import { restorePartition, runJob, silentLogger, type JobContext, type Logger } from "@partkeeper/core";
import { parseManifest } from "../packages/core/src/archive/manifest.ts";
import { qualifiedName } from "../packages/core/src/identifier.ts";
import { pageRangeCondition } from "../packages/core/src/parquet/relation-summary.ts";
import { createTestDatabase, differingRows, listObjects, useTestS3 } from "./helpers.ts";
import { partitionNames, testJobContext } from "./job-context.ts";
import { monthlyPolicy as policy, parentWithExpiredMay } from "./archive-fixture.ts";
import { startFaultProxy } from "./s3-fault-proxy.ts";

/**
 * Archives in several Parquet parts (issue 8): a tiny `archive.partSize` splits a small partition
 * into page ranges, each exported, uploaded, verified and recorded on its own; a run stopped by its
 * deadline or by an error between parts is continued by the next run; a corrupted part starts a new
 * attempt; restore reads every part.
 */
const NOW = new Date("2026-11-21T12:00:00Z");
const PART_SIZE = "128kB";
const ROWS = 3000;
const PART_DONE = "archive part verified and recorded";

/** May: ROWS wide rows (about 600 kB), amount NULL every 11th row, note every 7th; copied to `<name>_may`. */
const MAY = {
  rows: ROWS,
  copyMay: true,
  columns: [
    { name: "amount", type: "numeric(12,2)", value: "case when g % 11 = 0 then null else (g % 100000) / 100.0 end" },
    { name: "payload", type: "jsonb", value: "jsonb_build_object('g', g)" },
    { name: "note", type: "text", value: "case when g % 7 = 0 then null else repeat('x', 120) || g end" },
  ],
};

/** A logger that counts finished parts and calls `onPart` after each (which may throw). */
function partCounter(onPart: (parts: number) => void = () => {}): { logger: Logger; parts: () => number } {
  let parts = 0;
  return {
    parts: () => parts,
    logger: {
      ...silentLogger,
      info(message) {
        if (message !== PART_DONE) return;
        parts += 1;
        onPart(parts);
      },
    },
  };
}

async function archiveRecord(sql: JobContext["sql"], partition: string) {
  const [record] = await sql`select state, attempt, parts, last_error, rows::int as rows from partkeeper.archive where partition_name = ${partition} order by id desc limit 1`;
  return record as { state: string; attempt: number; parts: { firstPages: number[]; done: Array<{ part: number; key: string; rows: number }> } | null; last_error: string | null; rows: number | null };
}

/** Restores `<name>_p2026_05` into a side table and checks it holds exactly the copy taken before the archive. */
async function expectRestoredIdentical(ctx: JobContext, sql: JobContext["sql"], name: string): Promise<void> {
  const result = await restorePartition(ctx, { parent: qualifiedName("public", name), partition: `${name}_p2026_05`, mode: "side-table", dryRun: false });
  expect(result.rows).toBe(ROWS);
  expect(await differingRows(sql, `${name}_may`, `${name}_p2026_05_restored`)).toBe(0);
}

describe("archive in several parts (real PostgreSQL + S3)", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();
  const archive = { location, partSize: PART_SIZE };
  const context = (table: string, logger?: Logger) => testJobContext(url, { archive, tables: [policy(table)] }, { now: NOW }).then((c) => (logger ? { ...c, logger } : c));
  /** A context whose deadline passes once two parts are done. */
  const stoppingAfterTwoParts = async (table: string): Promise<JobContext> => {
    const counter = partCounter();
    const base = await context(table, counter.logger);
    return Object.defineProperty({ ...base }, "deadline", { get: () => (counter.parts() >= 2 ? Date.now() - 1 : Number.POSITIVE_INFINITY) });
  };

  it("archives a partition in parts beside a writer on the parent; the manifest lists every part; restore gives back every row", async () => {
    await parentWithExpiredMay(sql, "multi", MAY);
    const counter = partCounter();
    const ctx = await context("multi", counter.logger);
    const plan = await runJob(ctx, { job: "archive", dryRun: true });
    const planned = plan.parents[0]!.actions[0]!.statements;
    const parts = planned.filter((s) => s.startsWith("-- export part ")).length;
    expect(parts).toBeGreaterThanOrEqual(3);
    expect(planned.find((s) => s.startsWith("-- export part 1 of"))).toMatch(/\(pages 0\.\.\d+\) to s3:\/\/.*\/data\.part-0001\.parquet/);
    expect(planned.find((s) => s.startsWith(`-- export part ${parts} of`))).toMatch(/\(pages \d+\.\.end\)/);

    // Each part is read by a TID Range Scan over its pages, not a scan of the whole table.
    const explained = await sql.unsafe(`explain select count(*) from multi_p2026_05 where ${pageRangeCondition({ firstPage: 1, endPage: 3 })}`);
    expect(explained.map((r) => Object.values(r)[0]).join("\n")).toMatch(/Tid Range Scan/);

    const writer = postgres(url, { max: 1, onnotice: () => {} });
    const committed: number[] = [];
    const errors: string[] = [];
    let running = true;
    const writing = (async () => {
      for (let id = 20_000_000; running; id++) {
        try {
          await writer`insert into multi (id, ts, note) values (${id}, '2026-11-20 00:00:00+00', 'written during the archive')`;
          committed.push(id);
        } catch (error) {
          errors.push((error as Error).message);
        }
      }
    })();
    let summary;
    try {
      summary = await runJob(ctx, { job: "archive", dryRun: false });
    } finally {
      running = false;
      await writing;
      await writer.end({ timeout: 5 });
    }
    expect(summary.ok).toBe(true);
    expect(errors).toEqual([]);
    expect(committed.length).toBeGreaterThan(0);
    const [parentRows] = await sql`select count(*)::int as n from multi where id >= 20000000`;
    expect(parentRows!.n).toBe(committed.length);

    const outcome = summary.parents[0]!.actions[0]!;
    expect(outcome.archive).toMatchObject({ rows: ROWS, finalState: "dropped", objectKey: "public/multi/public/multi_p2026_05/data.part-0001.parquet" });
    expect(counter.parts()).toBe(parts);
    const manifest = parseManifest(await ctx.store!.getJson(outcome.archive!.manifestKey), "manifest");
    expect(manifest.objects.map((o) => o.key.split("/").pop())).toEqual(Array.from({ length: parts }, (_, i) => `data.part-${String(i + 1).padStart(4, "0")}.parquet`));
    expect(manifest.objects.reduce((n, o) => n + o.rows, 0)).toBe(ROWS);
    expect(manifest.rows).toBe(ROWS);
    expect(manifest.objects.every((o) => o.rows > 0)).toBe(true);
    const objects = await listObjects(ctx.store!.location, "public/multi/public/multi_p2026_05/");
    expect(objects.map((o) => o.key.split("/").pop()).sort()).toEqual([...manifest.objects.map((o) => o.key.split("/").pop()), "manifest.json"].sort());
    const record = await archiveRecord(sql, "multi_p2026_05");
    expect(record).toMatchObject({ state: "dropped", attempt: 1, rows: ROWS });
    expect(record.parts!.done.map((p) => p.key)).toEqual(manifest.objects.map((o) => o.key));

    await expectRestoredIdentical(ctx, sql, "multi");
  });

  it("stops before the deadline after some parts, keeps the partition detached and read-only, and the next run finishes it", async () => {
    await parentWithExpiredMay(sql, "paced", MAY);
    const first = await runJob(await stoppingAfterTwoParts("paced"), { job: "archive", dryRun: false });
    expect(first.ok).toBe(true);
    const deferred = first.parents[0]!.actions[0]!;
    expect(deferred.status).toBe("deferred");
    expect(deferred.message).toMatch(/^2 of (\d+) parts archived; continues on the next run$/);
    const parts = Number(/of (\d+) parts/.exec(deferred.message!)![1]);
    expect(parts).toBeGreaterThan(2);

    // Detached (not in the parent), guarded, every row still there.
    expect(await partitionNames(sql, "public", "paced")).toEqual(["paced_p2026_11"]);
    const [left] = await sql`select count(*)::int as n from paced_p2026_05`;
    expect(left!.n).toBe(ROWS);
    await expect(sql`insert into paced_p2026_05 (id, ts) values (1, '2026-05-02')`).rejects.toThrow(/read-only/);
    const stopped = await archiveRecord(sql, "paced_p2026_05");
    expect(stopped).toMatchObject({ state: "detached", attempt: 1 });
    expect(stopped.parts!.done.map((p) => p.part)).toEqual([1, 2]);

    const resumed = partCounter();
    const ctx = await context("paced", resumed.logger);
    const second = await runJob(ctx, { job: "archive", dryRun: false });
    expect(second.ok).toBe(true);
    const outcome = second.parents[0]!.actions[0]!;
    expect(outcome.action.kind === "archive-partition" && outcome.action.resumeArchiveId).toBeTruthy();
    expect(outcome.archive).toMatchObject({ rows: ROWS, finalState: "dropped" });
    expect(resumed.parts()).toBe(parts - 2); // parts 1 and 2 were not exported again
    const finished = await archiveRecord(sql, "paced_p2026_05");
    expect(finished).toMatchObject({ state: "dropped", attempt: 1, rows: ROWS });
    expect(finished.parts!.done.slice(0, 2)).toEqual(stopped.parts!.done);
    await expectRestoredIdentical(ctx, sql, "paced");
  });

  it("starts a new attempt under new keys when the table was rewritten (VACUUM FULL) between runs", async () => {
    await parentWithExpiredMay(sql, "rewritten", MAY);
    expect((await runJob(await stoppingAfterTwoParts("rewritten"), { job: "archive", dryRun: false })).parents[0]!.actions[0]!.status).toBe("deferred");
    await sql`vacuum full rewritten_p2026_05`;

    const ctx = await context("rewritten");
    const summary = await runJob(ctx, { job: "archive", dryRun: false });
    expect(summary.ok).toBe(true);
    const outcome = summary.parents[0]!.actions[0]!;
    expect(outcome.archive).toMatchObject({ rows: ROWS, finalState: "dropped", objectKey: "public/rewritten/public/rewritten_p2026_05/data.2.part-0001.parquet" });
    const manifest = parseManifest(await ctx.store!.getJson(outcome.archive!.manifestKey), "manifest");
    expect(manifest.objects.every((o) => /\/data\.2\.part-\d{4}\.parquet$/.test(o.key))).toBe(true);
    expect(await archiveRecord(sql, "rewritten_p2026_05")).toMatchObject({ state: "dropped", attempt: 2, rows: ROWS });
    await expectRestoredIdentical(ctx, sql, "rewritten");
  });

  it("resumes after a run that failed between parts, without attaching the partition again or exporting finished parts again", async () => {
    await parentWithExpiredMay(sql, "crashed", MAY);
    const crashing = await context("crashed", partCounter((n) => {
      if (n === 3) throw new Error("injected crash after part 3");
    }).logger);
    const first = await runJob(crashing, { job: "archive", dryRun: false });
    expect(first.ok).toBe(false);
    const failed = first.parents[0]!.actions[0]!;
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/injected crash after part 3; public\.crashed_p2026_05 stays detached and read-only with 3 of \d+ parts archived: the next run continues/);
    expect(await partitionNames(sql, "public", "crashed")).toEqual(["crashed_p2026_11"]);
    const stopped = await archiveRecord(sql, "crashed_p2026_05");
    expect(stopped).toMatchObject({ state: "detached", attempt: 1 });
    expect(stopped.parts!.done).toHaveLength(3);

    const resumed = partCounter();
    const ctx = await context("crashed", resumed.logger);
    const second = await runJob(ctx, { job: "archive", dryRun: false });
    expect(second.ok).toBe(true);
    expect(second.parents[0]!.actions[0]!.archive).toMatchObject({ rows: ROWS, finalState: "dropped" });
    expect(resumed.parts()).toBe(stopped.parts!.firstPages.length - 3);
    await expectRestoredIdentical(ctx, sql, "crashed");
  });

  it("resumes after the job was killed (SIGKILL) in the middle of a part, exporting only the parts not recorded", async () => {
    await parentWithExpiredMay(sql, "killed", MAY);
    const childUrl = new URL(url);
    childUrl.searchParams.set("application_name", "pk-archive-child");
    const child = spawn(process.execPath, ["--import", "tsx", path.resolve(import.meta.dirname, "archive-child.ts"), childUrl.toString(), JSON.stringify({ archive, tables: [policy("killed")] })], {
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const recorded = async () => {
      const [row] = await sql`select coalesce(jsonb_array_length(parts->'done'), 0)::int as n from partkeeper.archive where partition_name = 'killed_p2026_05'`;
      return (row?.n as number | undefined) ?? 0;
    };
    // Killed once two parts are recorded: in the middle of the third (its export, upload or read-back).
    for (const until = Date.now() + 60_000; (await recorded()) < 2; await sleep(2)) {
      if (child.exitCode !== null || Date.now() > until) throw new Error(`the child ended or stalled before two parts were recorded:\n${output}`);
    }
    child.kill("SIGKILL");
    await exited;
    for (const until = Date.now() + 30_000; ; await sleep(10)) {
      const [sessions] = await sql`select count(*)::int as n from pg_stat_activity where application_name = 'pk-archive-child'`;
      if (sessions!.n === 0) break;
      if (Date.now() > until) throw new Error("sessions of the killed child are still there");
    }
    const killed = await archiveRecord(sql, "killed_p2026_05");
    expect(killed.state).toBe("detached");
    expect(await partitionNames(sql, "public", "killed")).toEqual(["killed_p2026_11"]);
    const [left] = await sql`select count(*)::int as n from killed_p2026_05`;
    expect(left!.n).toBe(ROWS);

    const resumed = partCounter();
    const ctx = await context("killed", resumed.logger);
    const summary = await runJob(ctx, { job: "archive", dryRun: false });
    expect(summary.ok).toBe(true);
    expect(summary.parents[0]!.actions[0]!.archive).toMatchObject({ rows: ROWS, finalState: "dropped" });
    expect(resumed.parts()).toBe(killed.parts!.firstPages.length - killed.parts!.done.length);
    expect(await archiveRecord(sql, "killed_p2026_05")).toMatchObject({ state: "dropped", attempt: 1, rows: ROWS });
    await expectRestoredIdentical(ctx, sql, "killed");
  });

  describe("S3 faults on the wire", async () => {
    const proxy = await startFaultProxy(inject("s3Endpoint"));
    afterAll(() => proxy.stop());
    const proxied = async (table: string, logger?: Logger) => {
      const direct = process.env.AWS_ENDPOINT_URL_S3;
      process.env.AWS_ENDPOINT_URL_S3 = proxy.endpoint;
      try {
        return await context(table, logger);
      } finally {
        process.env.AWS_ENDPOINT_URL_S3 = direct;
      }
    };

    it("starts a new attempt under new keys when a stored part is corrupted, and archives the unaltered rows", async () => {
      await parentWithExpiredMay(sql, "flipped", MAY);
      const ctx = await proxied("flipped");
      proxy.faults = { flipUpload: 1, match: "data.part-0002.parquet" };
      const summary = await runJob(ctx, { job: "archive", dryRun: false });
      expect(proxy.injected.flipUpload).toBe(1);
      expect(summary.ok).toBe(true);
      const outcome = summary.parents[0]!.actions[0]!;
      expect(outcome.archive).toMatchObject({ rows: ROWS, finalState: "dropped", objectKey: "public/flipped/public/flipped_p2026_05/data.2.part-0001.parquet" });
      const manifest = parseManifest(await ctx.store!.getJson(outcome.archive!.manifestKey), "manifest");
      expect(manifest.objects.every((o) => /\/data\.2\.part-\d{4}\.parquet$/.test(o.key))).toBe(true);
      const record = await archiveRecord(sql, "flipped_p2026_05");
      expect(record).toMatchObject({ state: "dropped", attempt: 2 });
      expect(record.last_error).toBeNull();
      await expectRestoredIdentical(ctx, sql, "flipped");
    });

    it("keeps the finished parts when a part cannot be read back, and the next run continues", async () => {
      await parentWithExpiredMay(sql, "denied", MAY);
      const ctx = await proxied("denied");
      proxy.faults = { resetDownload: 100, match: "data.part-0003.parquet" };
      const first = await runJob(ctx, { job: "archive", dryRun: false });
      expect(proxy.injected.resetDownload).toBeGreaterThanOrEqual(1);
      expect(first.parents[0]!.actions[0]!.error).toMatch(/stays detached and read-only with 2 of \d+ parts archived/);
      expect(await partitionNames(sql, "public", "denied")).toEqual(["denied_p2026_11"]);
      proxy.faults = {};
      const second = await runJob(ctx, { job: "archive", dryRun: false });
      expect(second.ok).toBe(true);
      expect(second.parents[0]!.actions[0]!.archive).toMatchObject({ rows: ROWS, finalState: "dropped" });
      expect(await archiveRecord(sql, "denied_p2026_05")).toMatchObject({ state: "dropped", attempt: 1 });
      await expectRestoredIdentical(ctx, sql, "denied");
    });
  });
});
