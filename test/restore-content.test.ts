import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { restorePartition, runJob } from "@partkeeper/core";
import { parseManifest } from "../packages/core/src/archive/manifest.ts";
import { createTestDatabase, TEST_BUCKET, useTestS3 } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";

describe("restore compares every value with what was archived", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();
  await sql.unsafe(`
    create table notes (id bigint not null, ts timestamptz not null, body text, score double precision, primary key (id, ts)) partition by range (ts);
    create table notes_p2026_05 partition of notes for values from ('2026-05-01 00:00:00+00') to ('2026-06-01 00:00:00+00');
    create table notes_p2026_11 partition of notes for values from ('2026-11-01 00:00:00+00') to ('2026-12-01 00:00:00+00');
    insert into notes select g, timestamptz '2026-05-01 00:00:00+00' + g * interval '1 minute', case when g % 5 = 0 then null else 'note ' || g end, g / 7.0
      from generate_series(1, 2000) g;
  `);
  const ctx = await testJobContext(url, {
    archive: { location },
    tables: [{ table: "notes", strategy: "range-time", interval: "month", retention: "3 months", defaultPartition: false }],
  });
  const parent = { schema: "public", name: "notes" };

  it("restores a side table whose NULL counts and row digest equal the manifest's", async () => {
    const archived = await runJob(ctx, { job: "archive", dryRun: false });
    const manifestKey = archived.parents[0]!.actions[0]!.archive!.manifestKey;
    const manifest = parseManifest(await ctx.store!.getJson(manifestKey), manifestKey);
    expect(manifest.content?.columns.find((c) => c.name === "body")!.nulls).toBe(400);
    const result = await restorePartition(ctx, { parent, partition: "notes_p2026_05", mode: "side-table", dryRun: false });
    expect(result.status).toBe("restored");
  });

  it("refuses a restore whose values differ from the manifest's record, keeping the table to inspect", async () => {
    const manifestKey = "public/notes/public/notes_p2026_05/manifest.json";
    const manifest = parseManifest(await ctx.store!.getJson(manifestKey), manifestKey);
    // As if the manifest described other values (partkeeper's own store never overwrites it).
    const altered = { ...manifest, content: { ...manifest.content!, digest: String(BigInt(manifest.content!.digest) + 1n) } };
    const s3 = new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true, region: "us-east-1" });
    const prefix = location.replace(`s3://${TEST_BUCKET}/`, "");
    await s3.send(new PutObjectCommand({ Bucket: TEST_BUCKET, Key: `${prefix}/${manifestKey}`, Body: JSON.stringify(altered) }));
    s3.destroy();
    const error = await restorePartition(ctx, { parent, partition: "notes_p2026_05", mode: "side-table", target: "notes_check", dryRun: false }).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/^public\.notes_check does not hold the values archived in s3:\/\/.*manifest\.json: row digest \d+ restored vs \d+ archived \(values differ\); the table is kept for inspection/);
    const [kept] = await sql`select count(*)::int as n from notes_check`;
    expect(kept!.n).toBe(2000);
  });
});
