import path from "node:path";
import { describe, expect, it } from "vitest";
import { restorePartition, runJob, type JobContext } from "@partkeeper/core";
import { parseManifest } from "../packages/core/src/archive/manifest.ts";
import { qualifiedName } from "../packages/core/src/identifier.ts";
import { openDuckdb } from "../packages/core/src/parquet/duckdb-session.ts";
import { createTestDatabase, differingRows, useTestS3 } from "./helpers.ts";
import { monthlyPolicy as policy, parentWithExpiredMay } from "./archive-fixture.ts";
import { partitionNames, testJobContext } from "./job-context.ts";

/**
 * `archive.parquetVersion: "v2"`: archives (one object, and in parts) are written with Parquet v2
 * encodings, which partkeeper's own verification (DuckDB) and restore (DuckDB) read as they read v1;
 * the default stays v1.
 */
const NOW = new Date("2026-11-21T12:00:00Z");
const ROWS = 3000;

/** May: ROWS rows in shuffled time order, with NULLs, a double, quotes and empty strings; copied to `<name>_may`. */
const MAY = {
  rows: ROWS,
  copyMay: true,
  second: "g * 797 % 2592000",
  columns: [
    { name: "amount", type: "numeric(12,2)", value: "case when g % 11 = 0 then null else (g % 100000) / 100.0 end" },
    { name: "score", type: "double precision", value: "g * 1.25e-3" },
    { name: "payload", type: "jsonb", value: "jsonb_build_object('g', g)" },
    { name: "note", type: "text", value: "case when g % 7 = 0 then null when g % 13 = 0 then '' else 'it''s \"row\" ' || repeat('x', g % 50) || g end" },
  ],
};

/** Encodings of each column of a stored object, as DuckDB's parquet_metadata lists them (every row group). */
async function storedEncodings(ctx: JobContext, objectKey: string): Promise<Map<string, Set<string>>> {
  const file = path.join(ctx.workDir, `encodings-${objectKey.replace(/[^a-z0-9]+/gi, "-")}`);
  await ctx.store!.getToFile(objectKey, file);
  const duck = await openDuckdb(ctx.workDir);
  try {
    const rows = await duck.query(`select path_in_schema::varchar as col, encodings::varchar as encodings from parquet_metadata('${file}')`, "encodings");
    const byColumn = new Map<string, Set<string>>();
    for (const row of rows) {
      const set = byColumn.get(String(row.col)) ?? new Set<string>();
      for (const encoding of String(row.encodings).split(/[,\s[\]]+/).filter(Boolean)) set.add(encoding);
      byColumn.set(String(row.col), set);
    }
    return byColumn;
  } finally {
    duck.close();
  }
}

/** Archives `<name>_p2026_05` with `archive`, then returns the stored objects' keys (from the manifest). */
async function archiveMay(ctx: JobContext, sql: JobContext["sql"], name: string): Promise<{ plan: string[]; keys: string[] }> {
  const plan = await runJob(ctx, { job: "archive", dryRun: true });
  const summary = await runJob(ctx, { job: "archive", dryRun: false });
  expect(summary.ok).toBe(true);
  const outcome = summary.parents[0]!.actions[0]!;
  expect(outcome.archive).toMatchObject({ rows: ROWS, finalState: "dropped" });
  expect(await partitionNames(sql, "public", name)).toEqual([`${name}_p2026_11`]);
  const manifest = parseManifest(await ctx.store!.getJson(outcome.archive!.manifestKey), "manifest");
  return { plan: plan.parents[0]!.actions[0]!.statements.filter((s) => s.startsWith("-- export")), keys: manifest.objects.map((o) => o.key) };
}

/** Restores `<name>_p2026_05` into a side table: every row equal to the copy taken before the archive. */
async function expectRestoredIdentical(ctx: JobContext, sql: JobContext["sql"], name: string): Promise<void> {
  const result = await restorePartition(ctx, { parent: qualifiedName("public", name), partition: `${name}_p2026_05`, mode: "side-table", dryRun: false });
  expect(result.rows).toBe(ROWS);
  expect(await differingRows(sql, `${name}_may`, `${name}_p2026_05_restored`)).toBe(0);
}

describe("archive.parquetVersion (real PostgreSQL + S3)", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();

  it("v2: one object with v2 encodings, verified, dropped, restored with every row equal", async () => {
    await parentWithExpiredMay(sql, "v2one", MAY);
    const ctx = await testJobContext(url, { archive: { location, parquetVersion: "v2" }, tables: [policy("v2one")] }, { now: NOW });
    const { plan, keys } = await archiveMay(ctx, sql, "v2one");
    expect(plan).toEqual([expect.stringMatching(/^-- export to s3:\/\/.*\/data\.parquet \(Parquet v2, ZSTD/)]);
    expect(keys).toHaveLength(1);
    const encodings = await storedEncodings(ctx, keys[0]!);
    expect([...encodings.get("id")!]).toContain("DELTA_BINARY_PACKED");
    await expectRestoredIdentical(ctx, sql, "v2one");
  });

  it("v2 in several parts: every part has v2 encodings; restore reads them all", async () => {
    await parentWithExpiredMay(sql, "v2parts", MAY);
    const ctx = await testJobContext(url, { archive: { location, parquetVersion: "v2", partSize: "128kB" }, tables: [policy("v2parts")] }, { now: NOW });
    const { plan, keys } = await archiveMay(ctx, sql, "v2parts");
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(plan).toHaveLength(keys.length);
    for (const line of plan) expect(line).toMatch(/^-- export part \d+ of \d+ .*\(Parquet v2, ZSTD/);
    for (const key of keys) expect([...(await storedEncodings(ctx, key)).get("id")!]).toContain("DELTA_BINARY_PACKED");
    await expectRestoredIdentical(ctx, sql, "v2parts");
  });

  it("v1 (the default): no v2 encodings", async () => {
    await parentWithExpiredMay(sql, "v1one", MAY);
    const ctx = await testJobContext(url, { archive: { location }, tables: [policy("v1one")] }, { now: NOW });
    const { plan, keys } = await archiveMay(ctx, sql, "v1one");
    expect(plan).toEqual([expect.stringMatching(/\(Parquet, ZSTD/)]);
    const used = new Set([...(await storedEncodings(ctx, keys[0]!)).values()].flatMap((s) => [...s]));
    for (const v2 of ["DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "BYTE_STREAM_SPLIT"]) expect(used).not.toContain(v2);
    await expectRestoredIdentical(ctx, sql, "v1one");
  });
});
