/**
 * Fault figure (not a timed test): single bits flipped in a real archive, and what each verification
 * layer makes of them.
 *
 *   npx tsx bench/fault-bitflip.ts [flips] [rows]      # default 300 flips of a 50,000-row archive
 *
 * Exports one partition of the events shape (bigint, uuid, timestamptz, text, jsonb, numeric) to
 * Parquet, then per flip copies the file with one random bit inverted and asks:
 *   truth    do the decoded values differ from the original file's (DuckDB EXCEPT ALL both ways),
 *            or is the file unreadable?
 *   old      the former read-back check: row count and key min/max equal the partition's
 *   content  the content check: rows, per-column NULL counts and the row digest equal the partition's
 *   bytes    SHA-256 of the file equals the export's
 * and prints how many changed files each layer let through. Seeded, so runs are repeatable.
 */
import { copyFile, open } from "node:fs/promises";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { createClient } from "@partkeeper/core";
import { contentDifferences } from "../packages/core/src/parquet/content-digest.ts";
import { exportToParquet } from "../packages/core/src/parquet/export-parquet.ts";
import { summarizeRelation, summarizeRelationContent } from "../packages/core/src/parquet/relation-summary.ts";
import { duckdbKeySummary } from "../packages/core/src/parquet/parquet-types.ts";
import { readParquetContent, sha256File } from "../packages/core/src/parquet/read-parquet.ts";
import { startBenchServices } from "./local-services.ts";

const flips = Number(process.argv[2] ?? 300);
const rows = Number(process.argv[3] ?? 50_000);
const services = await startBenchServices("bitflip");
const { root, pg, releasers } = services;

/** Mulberry32: a small seeded generator, so every run flips the same bits. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

try {
  const sql = createClient(pg.url);
  releasers.push(() => sql.end({ timeout: 5 }));
  await sql.unsafe(`
    create table events (id bigint, run_id uuid, ts timestamptz, type text, payload jsonb, amount numeric(12,2));
    insert into events select g, gen_random_uuid(), timestamptz '2026-05-01 00:00:00+00' + g * interval '1 second', 'type' || (g % 20),
      jsonb_build_object('g', g, 'tags', jsonb_build_array('a', 'b')), g / 100.0 from generate_series(1, ${rows}) g;
  `);
  const relation = { schema: "public", name: "events" };
  const columns = [
    { name: "id", type: "bigint" },
    { name: "run_id", type: "uuid" },
    { name: "ts", type: "timestamp with time zone" },
    { name: "type", type: "text" },
    { name: "payload", type: "jsonb" },
    { name: "amount", type: "numeric(12,2)" },
  ];
  const key = columns[2]!;
  const exported = await exportToParquet({ openCopyClient: () => createClient(pg.url, { max: 1 }), relation, columns, workDir: root });
  const oldTable = await summarizeRelation(sql, relation, key);
  const table = await summarizeRelationContent(sql, relation, columns, key);
  const duck = await (await DuckDBInstance.create(":memory:")).connect();
  const next = random(20261121);
  const counts = { unreadable: 0, unchanged: 0, changed: 0, oldMissed: 0, contentMissed: 0, bytesMissed: 0 };
  const flipped = path.join(root, "flipped.parquet");
  for (let i = 0; i < flips; i++) {
    await copyFile(exported.file, flipped);
    const handle = await open(flipped, "r+");
    const offset = Math.floor(next() * exported.bytes);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    byte[0]! ^= 1 << Math.floor(next() * 8);
    await handle.write(byte, 0, 1, offset);
    await handle.close();

    let truth: "unreadable" | "unchanged" | "changed";
    try {
      const diff = await duck.runAndReadAll(
        `SELECT (SELECT count(*) FROM (SELECT * FROM read_parquet('${exported.file}') EXCEPT ALL SELECT * FROM read_parquet('${flipped}'))) +
                (SELECT count(*) FROM (SELECT * FROM read_parquet('${flipped}') EXCEPT ALL SELECT * FROM read_parquet('${exported.file}'))) AS n`,
      );
      truth = Number(diff.getRowObjectsJson()[0]!.n) === 0 ? "unchanged" : "changed";
    } catch {
      truth = "unreadable";
    }
    counts[truth]++;
    if (truth !== "changed") continue;
    // The former check, as it read the file: row count and key min/max.
    const oldPasses = await duck
      .runAndReadAll(`SELECT count(*) AS rows, ${duckdbKeySummary("TIMESTAMPTZ", key.name)} FROM read_parquet('${flipped}')`)
      .then(
        (r) => {
          const s = r.getRowObjectsJson()[0]!;
          return Number(s.rows) === oldTable.rows && s.key_min === oldTable.keyMin && s.key_max === oldTable.keyMax;
        },
        () => false,
      );
    const contentPasses = await readParquetContent(flipped, exported.columns, key.name, root).then(
      (s) => contentDifferences(table.content, s.content).length === 0 && s.keyMin === table.keyMin && s.keyMax === table.keyMax,
      () => false,
    );
    const bytesPass = (await sha256File(flipped)) === exported.sha256;
    if (oldPasses) counts.oldMissed++;
    if (contentPasses) counts.contentMissed++;
    if (bytesPass) counts.bytesMissed++;
  }
  console.log(`${flips} single-bit flips of a ${rows}-row archive (${exported.bytes} bytes):`);
  console.log(`  unreadable afterwards: ${counts.unreadable}; decoded values unchanged: ${counts.unchanged}; decoded values changed: ${counts.changed}`);
  console.log(`  changed files that passed the former check (rows + key min/max): ${counts.oldMissed} of ${counts.changed}`);
  console.log(`  changed files that passed the content check (rows, NULLs, row digest): ${counts.contentMissed} of ${counts.changed}`);
  console.log(`  changed files that passed the bytes check (SHA-256 vs export): ${counts.bytesMissed} of ${counts.changed}`);
} finally {
  await services.release();
}
