import { mkdtemp, open, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportToParquet } from "../packages/core/src/parquet/export-parquet.ts";
import { loadParquet } from "../packages/core/src/parquet/load-parquet.ts";
import type { ColumnInfo } from "../packages/core/src/catalog/types.ts";
import { qualifiedName } from "../packages/core/src/identifier.ts";
import { createTestDatabase } from "./helpers.ts";

/** load-parquet.ts `streams`: one file loaded by two DuckDB -> COPY streams at once. */
const ROWS = 120_000;
const columns: ColumnInfo[] = [
  { name: "id", type: "bigint" },
  { name: "createdAt", type: "timestamp with time zone" },
  { name: "note", type: "text" },
  { name: "payload", type: "jsonb" },
];

describe("restore loads a file in two parallel streams", async () => {
  const { url, sql } = await createTestDatabase();
  const opened: postgres.Sql[] = [];
  const openCopyClient = () => {
    const client = postgres(url, { max: 1, onnotice: () => {} });
    opened.push(client);
    return client;
  };
  const source = qualifiedName("public", "Two streams");
  let workDir: string;
  let exported: Awaited<ReturnType<typeof exportToParquet>>;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), "pk-streams-"));
    await sql.unsafe(`
      create table "Two streams" (id bigint, "createdAt" timestamptz, note text, payload jsonb);
      insert into "Two streams"
        select g, timestamptz '2025-01-01' + g * interval '1.000001 second', case when g % 5 = 0 then null else 'n, "' || g || E'"\\n' end,
               jsonb_build_object('g', g)
        from generate_series(1, ${ROWS}) g;
    `);
    exported = await exportToParquet({ openCopyClient, relation: source, columns, workDir, rowGroupRows: 10_000 });
  });
  afterAll(() => rm(workDir, { recursive: true, force: true }));

  it("loads every row exactly once, each stream on its own client, and the main client still answers", async () => {
    await sql`create table "Two streams restored" (like "Two streams")`;
    const before = opened.length;
    const { rows } = await loadParquet({
      openCopyClient,
      file: exported.file,
      target: qualifiedName("public", "Two streams restored"),
      columns: exported.columns,
      workDir,
      streams: 2,
    });
    expect(rows).toBe(ROWS);
    expect(opened.length - before).toBe(2);
    const diff = await sql`(select * from "Two streams" except all select * from "Two streams restored")
                           union all (select * from "Two streams restored" except all select * from "Two streams")`;
    expect(diff).toEqual([]);
  });

  it("loads nothing in either stream when DuckDB fails halfway through the file", async () => {
    const broken = await exportToParquet({ openCopyClient, relation: source, columns, workDir, fileName: "broken.parquet", rowGroupRows: 10_000 });
    const handle = await open(broken.file, "r+");
    // Zeros over the last quarter: the first stream's rows are readable, the second's fail midway.
    await handle.write(Buffer.alloc(64 * 1024), 0, 64 * 1024, Math.floor((broken.bytes * 3) / 4));
    await handle.close();
    await sql`create table "Two streams half" (like "Two streams")`;
    await expect(
      loadParquet({ openCopyClient, file: broken.file, target: qualifiedName("public", "Two streams half"), columns: broken.columns, workDir, streams: 2 }),
    ).rejects.toThrow(/DuckDB failed to convert/);
    const [row] = await sql`select count(*)::int as n from "Two streams half"`;
    expect(row!.n).toBe(0);
    const files = (await import("node:fs/promises")).readdir(workDir);
    expect((await files).filter((f) => f.endsWith(".csv"))).toEqual([]);
  });
});
