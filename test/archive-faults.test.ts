import { afterAll, beforeEach, describe, expect, inject, it } from "vitest";
import { runJob, type JobContext } from "@partkeeper/core";
import { parseManifest } from "../packages/core/src/archive/manifest.ts";
import { summarizeRelationContent } from "../packages/core/src/parquet/relation-summary.ts";
import { createTestDatabase, relationColumns, useTestS3 } from "./helpers.ts";
import { partitionNames, testJobContext } from "./job-context.ts";
import { monthlyPolicy as policy, parentWithExpiredMay } from "./archive-fixture.ts";
import { startFaultProxy } from "./s3-fault-proxy.ts";

const NOW = new Date("2026-11-21T12:00:00Z");

/** May's rows: amount, payload and a note that is NULL every 7th row. */
const MAY = {
  rows: 3000,
  columns: [
    { name: "amount", type: "numeric(12,2)", value: "(g % 100000) / 100.0" },
    { name: "payload", type: "jsonb", value: "jsonb_build_object('g', g)" },
    { name: "note", type: "text", value: "case when g % 7 = 0 then null else 'row ' || g end" },
  ],
};

describe("archive under S3 faults injected on the wire", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();
  const proxy = await startFaultProxy(inject("s3Endpoint"));
  afterAll(() => proxy.stop());
  beforeEach(() => {
    proxy.faults = {};
  });

  /** A context whose S3 client goes through the fault proxy. */
  async function proxiedContext(table: string, archiveLocation = location): Promise<JobContext> {
    const direct = process.env.AWS_ENDPOINT_URL_S3;
    process.env.AWS_ENDPOINT_URL_S3 = proxy.endpoint;
    try {
      return await testJobContext(url, { archive: { location: archiveLocation }, tables: [policy(table)] }, { now: NOW });
    } finally {
      process.env.AWS_ENDPOINT_URL_S3 = direct;
    }
  }

  it("catches a bit flipped in the upload, exports again under a new key, and archives the unaltered rows", async () => {
    await parentWithExpiredMay(sql, "flipped", MAY);
    const ctx = await proxiedContext("flipped");
    const partition = { schema: "public", name: "flipped_p2026_05" };
    const before = await summarizeRelationContent(sql, partition, await relationColumns(sql, partition), null);
    proxy.faults = { flipUpload: 1 };
    const summary = await runJob(ctx, { job: "archive", dryRun: false });
    expect(proxy.injected.flipUpload).toBe(1);
    expect(summary.ok).toBe(true);
    const outcome = summary.parents[0]!.actions[0]!;
    expect(outcome.archive).toMatchObject({ rows: 3000, finalState: "dropped", objectKey: "public/flipped/public/flipped_p2026_05/data.2.parquet" });
    const [record] = await sql`select attempt, last_error from partkeeper.archive where partition_name = 'flipped_p2026_05'`;
    expect(record!.attempt).toBe(2);
    const manifest = parseManifest(await ctx.store!.getJson(outcome.archive!.manifestKey), "manifest");
    expect(manifest.objects.map((o) => o.key)).toEqual([outcome.archive!.objectKey]);
    // The archive holds exactly the rows the partition held: same row digest as computed before.
    expect(manifest.content?.digest).toBe(before.content.digest);
  });

  it("keeps the partition, attached, when every export's upload is corrupted; the next clean run archives it", async () => {
    await parentWithExpiredMay(sql, "corrupt", MAY);
    const ctx = await proxiedContext("corrupt");
    proxy.faults = { flipUpload: 5 };
    const failed = await runJob(ctx, { job: "archive", dryRun: false });
    expect(failed.ok).toBe(false);
    const outcome = failed.parents[0]!.actions[0]!;
    expect(outcome).toMatchObject({ status: "failed", errorName: "ArchiveVerificationError" });
    expect(outcome.error).toMatch(/differs from the export: SHA-256 [0-9a-f]{64} of the stored object \(downloaded twice\) vs [0-9a-f]{64} computed at export/);
    expect(outcome.error).toContain("public.corrupt_p2026_05 is attached to public.corrupt again until the next run");
    expect(await partitionNames(sql, "public", "corrupt")).toContain("corrupt_p2026_05");
    const [visible] = await sql`select count(*)::int as n from corrupt where ts < '2026-06-01'`;
    expect(visible!.n).toBe(3000);

    proxy.faults = {};
    const clean = await runJob(ctx, { job: "archive", dryRun: false });
    expect(clean.ok).toBe(true);
    expect(clean.parents[0]!.actions[0]!.archive).toMatchObject({ rows: 3000, finalState: "dropped", objectKey: expect.stringMatching(/data\.3\.parquet$/) });
  });

  it("tells a corrupted download from a corrupted object: one bad download is fetched again", async () => {
    await parentWithExpiredMay(sql, "download", MAY);
    const ctx = await proxiedContext("download");
    proxy.faults = { flipDownload: 1 };
    const summary = await runJob(ctx, { job: "archive", dryRun: false });
    expect(proxy.injected.flipDownload).toBe(1);
    expect(summary.ok).toBe(true);
    expect(summary.parents[0]!.actions[0]!.archive).toMatchObject({ finalState: "dropped", objectKey: "public/download/public/download_p2026_05/data.parquet" });
  });

  it("retries a reset or truncated download, and says what happened when it keeps failing", async () => {
    await parentWithExpiredMay(sql, "reset", MAY);
    const ctx = await proxiedContext("reset");
    proxy.faults = { resetDownload: 1, truncateDownload: 1 };
    expect((await runJob(ctx, { job: "archive", dryRun: false })).ok).toBe(true);
    expect(proxy.injected).toMatchObject({ resetDownload: 1, truncateDownload: 1 });

    await parentWithExpiredMay(sql, "cut", MAY);
    const cut = await proxiedContext("cut");
    proxy.faults = { truncateDownload: 100 };
    const truncated = await runJob(cut, { job: "archive", dryRun: false });
    // Node sees a body that ends before its Content-Length as a connection closed mid-transfer.
    expect(truncated.parents[0]!.actions[0]!.error).toMatch(/attempt 3 of 3, \d+ of \d+ bytes received\) .* reset or closed mid-transfer/);
    expect(truncated.parents[0]!.actions[0]!.error).not.toMatch(/cannot reach/);
    proxy.faults = { resetDownload: 100 };
    const reset = await runJob(cut, { job: "archive", dryRun: false });
    expect(reset.parents[0]!.actions[0]!.error).toMatch(/reset or closed mid-transfer/);
    expect(reset.parents[0]!.actions[0]!.error).not.toMatch(/cannot reach/);
    expect(await partitionNames(sql, "public", "cut")).toContain("cut_p2026_05");
  });

  it("exports afresh when the object of an unfinished archive is missing", async () => {
    await parentWithExpiredMay(sql, "missing", MAY);
    const ctx = await proxiedContext("missing");
    // As after the old advice "inspect the object, remove it, and run again": exported, object gone.
    await sql`alter table missing detach partition missing_p2026_05`;
    await sql`insert into partkeeper.archive (parent_schema, parent_name, partition_schema, partition_name, bound_expression, state, object_key, export_sha256)
      values ('public', 'missing', 'public', 'missing_p2026_05', 'FOR VALUES FROM (''2026-05-01 00:00:00+00'') TO (''2026-06-01 00:00:00+00'')',
              'exported', 'public/missing/public/missing_p2026_05/data.parquet', repeat('a', 64))`;
    const summary = await runJob(ctx, { job: "archive", dryRun: false });
    expect(summary.ok).toBe(true);
    expect(summary.parents[0]!.actions[0]!.archive).toMatchObject({ rows: 3000, finalState: "dropped", objectKey: expect.stringMatching(/data\.2\.parquet$/) });
    const [record] = await sql`select state, last_error from partkeeper.archive where partition_name = 'missing_p2026_05'`;
    expect(record!.state).toBe("dropped");
  });

  it("finds a missing bucket or a denied write before detaching anything", async () => {
    await parentWithExpiredMay(sql, "nobucket", MAY);
    const missing = await proxiedContext("nobucket", `s3://no-such-bucket-${process.pid}/x`);
    const noBucket = await runJob(missing, { job: "archive", dryRun: false });
    expect(noBucket.parents[0]!.actions[0]!.error).toMatch(/the bucket does not exist/);
    expect(noBucket.parents[0]!.actions[0]!.statements).toEqual([]);
    expect(await partitionNames(sql, "public", "nobucket")).toContain("nobucket_p2026_05");

    const denied = await proxiedContext("nobucket");
    proxy.faults = { denyWrites: 1 };
    const refused = await runJob(denied, { job: "archive", dryRun: false });
    expect(refused.parents[0]!.actions[0]!.error).toMatch(/write check \(PUT\) .* failed with HTTP 403 .*access denied/);
    expect(refused.parents[0]!.actions[0]!.statements).toEqual([]);
    expect(await partitionNames(sql, "public", "nobucket")).toContain("nobucket_p2026_05");
    const records = await sql`select 1 from partkeeper.archive where parent_name = 'nobucket'`;
    expect(records).toHaveLength(0);
  });
});
