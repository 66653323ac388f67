/**
 * Would a restore that loads PostgreSQL's binary COPY format pay? (issue 8; never a timed test)
 *
 *   npx tsx bench/restore-binary-copy.ts            # 1,000,000 rows, 3 rounds
 *   npx tsx bench/restore-binary-copy.ts 200000 5
 *
 * The restore loads CSV (load-parquet.ts: DuckDB -> named pipe -> `COPY FROM (FORMAT csv)`), and
 * Postgres parsing CSV is its limit. DuckDB cannot write the binary COPY format, so a binary load
 * means encoding it in Node from DuckDB's result chunks. This bench builds bench/events-fixture.ts's
 * partition, exports it with partkeeper's export, and times, in interleaved rounds (medians), into a
 * table like the partition without indexes (the restore builds them after the load):
 *   csv load     partkeeper's loadParquet (what the restore does)
 *   binary load  DuckDB -> Node encoder -> `COPY FROM (FORMAT binary)` (the alternative)
 *   limits       `COPY FROM STDIN` of Postgres's own csv and binary COPY output of the partition
 *   encode only  the Node encoder into nothing, and DuckDB's chunks alone (what the encoder adds)
 * The encoder covers only the fixture's types (bigint, uuid, timestamptz, text, jsonb, numeric(12,2))
 * and reads DuckDB's vectors through their internal typed views, which is the fastest Node can do;
 * a complete one would need an encoder per type. Its output is checked byte for byte against
 * Postgres's own binary COPY of the partition (same rows, same order).
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { DuckDBDataChunk } from "@duckdb/node-api";
import { createClient, qualifiedName } from "@partkeeper/core";
import { exportToParquet } from "../packages/core/src/parquet/export-parquet.ts";
import { loadParquet } from "../packages/core/src/parquet/load-parquet.ts";
import { parquetColumn } from "../packages/core/src/parquet/parquet-types.ts";
import { quoteLiteral } from "../packages/core/src/parquet/quote.ts";
import { createEventsTable, EVENTS_PARTITION } from "./events-fixture.ts";
import { startBenchServices } from "./local-services.ts";

const rows = Number(process.argv[2] ?? 1_000_000);
/** 2000-01-01 00:00:00 UTC, Postgres's timestamp epoch, in microseconds since the Unix epoch. */
const PG_EPOCH_MICROS = 946_684_800_000_000n;
const rounds = Number(process.argv[3] ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const services = await startBenchServices("restore-binary-copy");

try {
  const { pg, root } = services;
  const sql = createClient(pg.url);
  services.releasers.push(() => sql.end({ timeout: 5 }));
  await createEventsTable(sql, rows);
  const columns = await sql<{ name: string; type: string }[]>`
    select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
    where attrelid = ${EVENTS_PARTITION}::regclass and attnum > 0 and not attisdropped order by attnum`;
  const exported = await exportToParquet({
    openCopyClient: () => createClient(pg.url, { max: 1 }),
    relation: qualifiedName("public", EVENTS_PARTITION),
    columns,
    workDir: root,
  });
  const files = { csv: path.join(root, "partition.csv"), binary: path.join(root, "partition.copy") };
  for (const format of ["csv", "binary"] as const) {
    const copy = createClient(pg.url, { max: 1 });
    await copy`set timezone = 'UTC'`;
    await pipeline(await copy.unsafe(`copy ${EVENTS_PARTITION} to stdout (format ${format})`).readable(), createWriteStream(files[format]));
    await copy.end();
  }

  const { DuckDBInstance } = await import("@duckdb/node-api");
  const duck = await (await DuckDBInstance.create(":memory:")).connect();
  /** The binary COPY stream of the Parquet file: header, one tuple per row, trailer. */
  async function* binaryCopy(encode: boolean): AsyncGenerator<Buffer> {
    yield Buffer.from("PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0", "latin1");
    const result = await duck.stream(`SELECT * FROM read_parquet(${quoteLiteral(exported.file)})`);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      if (encode) yield encodeEventsChunk(chunk);
    }
    yield Buffer.from([0xff, 0xff]);
  }
  const fileColumns = columns.map(parquetColumn);
  const target = "events_load";
  const fresh = async () => {
    await sql.unsafe(`drop table if exists ${target}; create table ${target} (like ${EVENTS_PARTITION})`);
    await sql`checkpoint`;
  };
  const copyFrom = async (format: "csv" | "binary", source: Readable) => {
    const copy = createClient(pg.url, { max: 1 });
    await copy`set timezone = 'UTC'`;
    await pipeline(source, await copy.unsafe(`copy ${target} from stdin (format ${format})`).writable());
    await copy.end();
  };
  const drain = async (source: AsyncIterable<Buffer>) => {
    let bytes = 0;
    for await (const b of source) bytes += b.length;
    return bytes;
  };
  const steps = {
    "csv load: loadParquet (the restore's)": () =>
      loadParquet({ openCopyClient: () => createClient(pg.url, { max: 1 }), file: exported.file, target: qualifiedName("public", target), columns: fileColumns, workDir: root }),
    "binary load: DuckDB -> Node encoder -> COPY FROM (binary)": () => copyFrom("binary", Readable.from(binaryCopy(true))),
    "limit: COPY FROM (csv) of Postgres's csv": () => copyFrom("csv", createReadStream(files.csv)),
    "limit: COPY FROM (binary) of Postgres's binary": () => copyFrom("binary", createReadStream(files.binary)),
    "encode only: DuckDB -> Node encoder": () => drain(binaryCopy(true)),
    "DuckDB's chunks alone": () => drain(binaryCopy(false)),
  };
  const times = new Map<string, number[]>(Object.keys(steps).map((k) => [k, []]));
  const names = Object.keys(steps) as Array<keyof typeof steps>;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!;
      await fresh();
      const started = performance.now();
      await steps[name]();
      times.get(name)!.push(performance.now() - started);
    }
  }
  const ours = createHash("sha256");
  for await (const b of binaryCopy(true)) ours.update(b);
  const theirs = createHash("sha256");
  for await (const b of createReadStream(files.binary)) theirs.update(b as Buffer);
  const same = ours.digest("hex") === theirs.digest("hex");
  const [server] = await sql`select current_setting('server_version') as v`;
  const limit = median(times.get("limit: COPY FROM (binary) of Postgres's binary")!);
  process.stdout.write(`rows ${rows.toLocaleString("en-US")}, PostgreSQL ${server!.v}, medians of ${rounds}; encoder output ${same ? "identical to" : "DIFFERENT FROM"} Postgres's binary COPY\n`);
  for (const [name, ms] of times) {
    const m = median(ms);
    process.stdout.write(`${name.padEnd(58)} ${(m / 1000).toFixed(2).padStart(6)} s  ${(limit / m).toFixed(2)}x binary COPY FROM  (${ms.map((x) => (x / 1000).toFixed(2)).join(", ")} s)\n`);
  }
  if (!same) process.exitCode = 1;
} finally {
  await services.release();
}

// The fixture's types only. Internal typed views of @duckdb/node-api 1.5 vectors: getItem() builds
// a JS value per item (a string decode, a UUID object), several times slower.
type Views = { items: BigInt64Array; dataView: DataView };

/** One DuckDB chunk of (id, run_id, ts, type, payload, amount) as binary COPY tuples (PostgreSQL docs, "COPY", Binary Format; each type's send function). */
function encodeEventsChunk(chunk: DuckDBDataChunk): Buffer {
  const [id, runId, ts, type, payload, amount] = [0, 1, 2, 3, 4, 5].map((i) => chunk.getColumnVector(i));
  const ids = (id as unknown as Views).items;
  const uuids = (runId as unknown as Views).dataView;
  const times = (ts as unknown as Views).items;
  const amounts = (amount as unknown as Views).dataView;
  const out = Buffer.allocUnsafe(chunk.rowCount * 512); // the fixture's tuples are under 200 bytes
  let at = 0;
  const text = (value: string, jsonbVersion: boolean) => {
    const lengthAt = at;
    at += 4;
    if (jsonbVersion) out[at++] = 1;
    at += out.write(value, at, "utf8");
    out.writeInt32BE(at - lengthAt - 4, lengthAt);
  };
  for (let r = 0; r < chunk.rowCount; r++) {
    out.writeInt16BE(6, at);
    out.writeInt32BE(8, at + 2);
    out.writeBigInt64BE(ids[r]!, at + 6);
    out.writeInt32BE(16, at + 14);
    // DuckDB keeps a UUID as a 128-bit integer with the top bit flipped, low half first.
    out.writeBigUInt64BE(uuids.getBigUint64(r * 16 + 8, true) ^ 0x8000_0000_0000_0000n, at + 18);
    out.writeBigUInt64BE(uuids.getBigUint64(r * 16, true), at + 26);
    out.writeInt32BE(8, at + 34);
    out.writeBigInt64BE(times[r]! - PG_EPOCH_MICROS, at + 38);
    at += 46;
    text(type!.getItem(r) as string, false);
    text(payload!.getItem(r) as string, true);
    at = writeNumeric(out, at, Number(amounts.getBigInt64(r * 8, true)), 2);
  }
  return out.subarray(0, at);
}

/** numeric_send of `scaled / 10^scale` for scale 2: base-10000 digits, weight, sign, display scale. */
function writeNumeric(out: Buffer, at: number, scaled: number, scale: 2): number {
  const negative = scaled < 0;
  let whole = Math.floor(Math.abs(scaled) / 100);
  const cents = Math.abs(scaled) % 100;
  const digits: number[] = [];
  let weight = -1;
  while (whole > 0) {
    digits.unshift(whole % 10000);
    whole = Math.floor(whole / 10000);
    weight++;
  }
  if (cents !== 0) digits.push(cents * 100);
  while (digits.length > 0 && digits[digits.length - 1] === 0) digits.pop();
  let leading = 0;
  while (leading < digits.length && digits[leading] === 0) leading++;
  const kept = digits.slice(leading);
  out.writeInt32BE(8 + 2 * kept.length, at);
  out.writeInt16BE(kept.length, at + 4);
  out.writeInt16BE(kept.length === 0 ? 0 : weight - leading, at + 6);
  out.writeUInt16BE(negative ? 0x4000 : 0, at + 8);
  out.writeInt16BE(scale, at + 10);
  at += 12;
  for (const d of kept) {
    out.writeInt16BE(d, at);
    at += 2;
  }
  return at;
}
