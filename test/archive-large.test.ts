import { mkdtemp, open, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportToParquet } from "../packages/core/src/parquet/export-parquet.ts";
import { loadParquet } from "../packages/core/src/parquet/load-parquet.ts";
import { readParquetContent } from "../packages/core/src/parquet/read-parquet.ts";
import { summarizeRelationContent } from "../packages/core/src/parquet/relation-summary.ts";
import type { ColumnInfo } from "../packages/core/src/catalog/types.ts";
import { qualifiedName } from "../packages/core/src/identifier.ts";
import { createTestDatabase } from "./helpers.ts";

/**
 * The postgres.js COPY pitfall (PLATFORM-NOTES; porsager/postgres #499, #917): after a large COPY
 * with backpressure, later queries on the same client hang. Archive code runs every COPY on its own
 * `max: 1` client and ends it; this file proves the test's main client still answers after a large
 * export and a large import (with a timeout, so a hang fails instead of freezing the run), and
 * measures the export rate next to a raw `COPY ... TO STDOUT` in the same process.
 */
const ROWS = 500_000;
const events = qualifiedName("public", "Events big");
const restored = qualifiedName("public", "Events big restored");
const columns: ColumnInfo[] = [
  { name: "id", type: "bigint" },
  { name: "tenant", type: "uuid" },
  { name: "createdAt", type: "timestamp with time zone" },
  { name: "kind", type: "text" },
  { name: "payload", type: "jsonb" },
  { name: "amount", type: "numeric(12,2)" },
];

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms: the client is wedged`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const rate = (rows: number, ms: number): number => Math.round((rows / ms) * 1000);

describe("large export and import keep the main client usable", async () => {
  const { url, sql } = await createTestDatabase();
  const opened: postgres.Sql[] = [];
  const openCopyClient = () => {
    const client = postgres(url, { max: 1, onnotice: () => {} });
    opened.push(client);
    return client;
  };
  let workDir: string;
  let exported: Awaited<ReturnType<typeof exportToParquet>>;
  const figures: Record<string, string> = {};

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), "pk-large-"));
    await sql.unsafe(`
      create table "Events big" (id bigint primary key, tenant uuid not null, "createdAt" timestamptz not null,
                                 kind text not null, payload jsonb, amount numeric(12,2));
      insert into "Events big"
        select g, md5((g % 1000)::text)::uuid, timestamptz '2024-01-01' + g * interval '5.123457 seconds',
               (array['click', 'view', 'buy, "now"'])[g % 3 + 1],
               jsonb_build_object('g', g, 'path', '/p/' || (g % 97), 'ok', g % 2 = 0), (g % 100000) / 100.0
        from generate_series(1, ${ROWS}) g;
      analyze "Events big";
      create table "Events big restored" (like "Events big");
    `);
  });

  afterAll(async () => {
    console.info(`archive figures (${ROWS} rows): ${JSON.stringify(figures)}`);
    await rm(workDir, { recursive: true, force: true });
  });

  it("measures a raw COPY TO STDOUT (csv) on its own client, for comparison", async () => {
    const client = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const started = performance.now();
      let bytes = 0;
      // A fast consumer that never pushes back (the pattern that did not hang).
      for await (const chunk of await client.unsafe(`copy "Events big" to stdout (format csv)`).readable()) {
        bytes += (chunk as Buffer).length;
      }
      const ms = performance.now() - started;
      figures.rawCopyRowsPerSecond = String(rate(ROWS, ms));
      figures.rawCopyMs = ms.toFixed(0);
      figures.csvBytes = String(bytes);
    } finally {
      await client.end({ timeout: 5 });
    }
  });

  it("exports 500k rows, ends its COPY client, and the main client still answers", async () => {
    const started = performance.now();
    exported = await exportToParquet({ openCopyClient, relation: events, columns, workDir });
    const ms = performance.now() - started;
    figures.exportRowsPerSecond = String(rate(ROWS, ms));
    figures.exportMs = ms.toFixed(0);
    figures.parquetBytes = String(exported.bytes);
    expect(exported.rows).toBe(ROWS);

    const [row] = await withTimeout(sql`select count(*)::int as n from ${sql("Events big")}`, 10_000, "main client after export");
    expect(row!.n).toBe(ROWS);
    await expect(opened[0]!`select 1`).rejects.toThrow(/CONNECTION_ENDED|ended/i);

    const startedVerify = performance.now();
    const key = columns[2]!;
    const [fromFile, fromTable] = await Promise.all([
      readParquetContent(exported.file, exported.columns, key.name, workDir),
      summarizeRelationContent(sql, events, columns, key),
    ]);
    figures.verifyMs = (performance.now() - startedVerify).toFixed(0);
    expect(fromFile).toEqual(fromTable);
  });

  it("imports 500k rows, ends its COPY client, and the main client still answers", async () => {
    const started = performance.now();
    const { rows } = await loadParquet({ openCopyClient, file: exported.file, target: restored, columns: exported.columns, workDir });
    const ms = performance.now() - started;
    figures.loadRowsPerSecond = String(rate(ROWS, ms));
    figures.loadMs = ms.toFixed(0);
    expect(rows).toBe(ROWS);

    const [row] = await withTimeout(sql`select count(*)::int as n from ${sql("Events big restored")}`, 10_000, "main client after import");
    expect(row!.n).toBe(ROWS);
    await expect(opened[1]!`select 1`).rejects.toThrow(/CONNECTION_ENDED|ended/i);
    const diff = await withTimeout(
      sql`(select * from ${sql("Events big")} except all select * from ${sql("Events big restored")})
          union all
          (select * from ${sql("Events big restored")} except all select * from ${sql("Events big")})`,
      60_000,
      "comparison",
    );
    expect(diff).toHaveLength(0);
  });

  it("loads nothing when DuckDB fails halfway through a file (the streamed COPY is failed, not finished)", async () => {
    // Row groups of 20k rows; zeros over the middle of the file leave the first groups readable, so
    // DuckDB has streamed rows into the COPY before it fails.
    const small = await exportToParquet({ openCopyClient, relation: events, columns, workDir, fileName: "groups.parquet", rowGroupRows: 20_000 });
    const handle = await open(small.file, "r+");
    await handle.write(Buffer.alloc(256 * 1024), 0, 256 * 1024, Math.floor(small.bytes / 2));
    await handle.close();
    const target = qualifiedName("public", "Events half");
    await sql`create table ${sql(target.name)} (like ${sql("Events big")})`;
    await expect(loadParquet({ openCopyClient, file: small.file, target, columns: small.columns, workDir })).rejects.toThrow(/DuckDB failed to convert/);
    const [row] = await withTimeout(sql`select count(*)::int as n from ${sql(target.name)}`, 10_000, "main client after the failed load");
    expect(row!.n).toBe(0);
  });
});
