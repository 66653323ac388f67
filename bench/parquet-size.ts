/**
 * Archive size: partkeeper's Parquet against `pg_dump -Fc` of the same partition, and the Parquet
 * writer settings issue 8 asks to choose with measurements (never a timed test).
 *
 *   npx tsx bench/parquet-size.ts                  # 1,000,000 rows, random and time-ordered timestamps
 *   npx tsx bench/parquet-size.ts --rows 200000 --order time
 *   npx tsx bench/parquet-size.ts --slow           # also the slow codecs (ZSTD 12-17, gzip, brotli: minutes)
 *
 * Runs on Debian's PostgreSQL 15 (/usr/lib/postgresql/15/bin, for its pg_dump; the embedded server
 * has none), else stops with the reason. Per `--order`, builds bench/events-fixture.ts's partition,
 * then measures `pg_dump -Fc -t <partition>` (bytes, wall time), partkeeper's export
 * (exportToParquet, today's settings) and the same rows written again by DuckDB from that file
 * with other settings: row group size, ZSTD level, PARQUET_VERSION v2 (DELTA_BINARY_PACKED,
 * DELTA_LENGTH_BYTE_ARRAY and BYTE_STREAM_SPLIT encodings, data page v2). Prints bytes, the ratio to
 * pg_dump (issue 8's goal: at most 0.6x), the rewrite's wall time and the bytes of each column, and
 * the fixture's floor: the bytes per row no format can remove (events-fixture.ts).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { createClient, qualifiedName } from "@partkeeper/core";
import { openDuckdb } from "../packages/core/src/parquet/duckdb-session.ts";
import { exportToParquet, DEFAULT_ROW_GROUP_ROWS, ZSTD_LEVEL } from "../packages/core/src/parquet/export-parquet.ts";
import { quoteLiteral } from "../packages/core/src/parquet/quote.ts";
import { createEventsTable, EVENTS_PARTITION } from "./events-fixture.ts";
import { startBenchServices } from "./local-services.ts";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    order: { type: "string", default: "random,time" },
    slow: { type: "boolean", default: false },
  },
});
const rows = Number(args.rows);
const orders = args.order.split(",") as Array<"random" | "time">;
const PG_BIN = "/usr/lib/postgresql/15/bin";
if (!existsSync(path.join(PG_BIN, "pg_dump"))) {
  process.stderr.write(`${PG_BIN}/pg_dump not found: apt-get install postgresql-15 (pg_dump must match the server's major)\n`);
  process.exit(2);
}

/** Settings written again from partkeeper's file; the first is partkeeper's own, as a control. */
const VARIANTS: ReadonlyArray<readonly [string, string]> = [
  [`ZSTD ${ZSTD_LEVEL}, row group ${DEFAULT_ROW_GROUP_ROWS} (partkeeper's)`, `COMPRESSION zstd, COMPRESSION_LEVEL ${ZSTD_LEVEL}, ROW_GROUP_SIZE ${DEFAULT_ROW_GROUP_ROWS}`],
  ["ZSTD 3 (DuckDB's default)", `COMPRESSION zstd, ROW_GROUP_SIZE ${DEFAULT_ROW_GROUP_ROWS}`],
  ["ZSTD 3, row group 1,048,576", "COMPRESSION zstd, ROW_GROUP_SIZE 1048576"],
  ["ZSTD 9", `COMPRESSION zstd, COMPRESSION_LEVEL 9, ROW_GROUP_SIZE ${DEFAULT_ROW_GROUP_ROWS}`],
  ["ZSTD 19", `COMPRESSION zstd, COMPRESSION_LEVEL 19, ROW_GROUP_SIZE ${DEFAULT_ROW_GROUP_ROWS}`],
  ["ZSTD 3, PARQUET_VERSION v2", `COMPRESSION zstd, ROW_GROUP_SIZE ${DEFAULT_ROW_GROUP_ROWS}, PARQUET_VERSION v2`],
  ["ZSTD 1, PARQUET_VERSION v2", `COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE ${DEFAULT_ROW_GROUP_ROWS}, PARQUET_VERSION v2`],
  ["ZSTD 9, PARQUET_VERSION v2, row group 1,048,576", "COMPRESSION zstd, COMPRESSION_LEVEL 9, ROW_GROUP_SIZE 1048576, PARQUET_VERSION v2"],
  ...(args.slow
    ? ([
        ...[12, 15, 16, 17].map((level) => [`ZSTD ${level}`, `COMPRESSION zstd, COMPRESSION_LEVEL ${level}, ROW_GROUP_SIZE ${DEFAULT_ROW_GROUP_ROWS}`] as const),
        ["gzip", `COMPRESSION gzip, ROW_GROUP_SIZE ${DEFAULT_ROW_GROUP_ROWS}`],
        ["brotli", `COMPRESSION brotli, ROW_GROUP_SIZE ${DEFAULT_ROW_GROUP_ROWS}`],
      ] as const)
    : []),
];

/**
 * Bytes per row of the fixture that no format can remove: the random uuid (16), the md5 digest in
 * the jsonb (16; random to any compressor) and, with random timestamps, a random microsecond in 31
 * days (log2(31 x 86,400 x 10^6) bits). Every other value is a function of the row number.
 */
const floorBytesPerRow = (order: "random" | "time") => 32 + (order === "random" ? Math.log2(31 * 86_400 * 1e6) / 8 : 0);

const out = (line = "") => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

for (const order of orders) {
  const services = await startBenchServices("parquet-size", undefined, { binDir: PG_BIN });
  try {
    const sql = createClient(services.pg.url);
    services.releasers.push(() => sql.end({ timeout: 5 }));
    await createEventsTable(sql, rows, order);
    const [size] = await sql`select pg_total_relation_size(${EVENTS_PARTITION}::regclass)::float8 as bytes`;
    const dump = path.join(services.root, "partition.dump");
    const started = performance.now();
    execFileSync(path.join(PG_BIN, "pg_dump"), ["-Fc", "-t", `public.${EVENTS_PARTITION}`, "-f", dump, services.pg.url]);
    const dumpMs = performance.now() - started;
    const dumpBytes = (await stat(dump)).size;
    const columns = await sql<{ name: string; type: string }[]>`
      select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
      where attrelid = ${EVENTS_PARTITION}::regclass and attnum > 0 and not attisdropped order by attnum`;
    const exported = await exportToParquet({
      openCopyClient: () => createClient(services.pg.url, { max: 1 }),
      relation: qualifiedName("public", EVENTS_PARTITION),
      columns,
      workDir: services.root,
    });
    out(`${rows.toLocaleString("en-US")} rows, ${order === "time" ? "inserted in time order" : "random timestamps"}; partition ${mb(size!.bytes as number)} on disk`);
    out(`  pg_dump -Fc                                         ${mb(dumpBytes).padStart(9)}  1.00x  ${(dumpMs / 1000).toFixed(2)} s`);
    out(`  partkeeper's export                                 ${mb(exported.bytes).padStart(9)}  ${(exported.bytes / dumpBytes).toFixed(2)}x`);
    const floor = floorBytesPerRow(order) * rows;
    out(`  ${`floor: ${floorBytesPerRow(order).toFixed(1)} incompressible bytes a row`.padEnd(52)}${mb(floor).padStart(9)}  ${(floor / dumpBytes).toFixed(2)}x`);
    const duck = await openDuckdb(services.root);
    try {
      for (const [name, options] of VARIANTS) {
        const file = path.join(services.root, "variant.parquet");
        const t = performance.now();
        await duck.query(`COPY (SELECT * FROM read_parquet(${quoteLiteral(exported.file)})) TO ${quoteLiteral(file)} (FORMAT parquet, ${options})`, name);
        const ms = performance.now() - t;
        const bytes = (await stat(file)).size;
        out(`  rewritten: ${name.padEnd(41)}${mb(bytes).padStart(9)}  ${(bytes / dumpBytes).toFixed(2)}x  ${(ms / 1000).toFixed(2)} s`);
      }
      const perColumn = await duck.query(
        `SELECT path_in_schema AS name, sum(total_compressed_size)::BIGINT AS bytes, string_agg(DISTINCT encodings, ' / ') AS encodings
         FROM parquet_metadata(${quoteLiteral(exported.file)}) GROUP BY 1 ORDER BY 2 DESC`,
        "column sizes",
      );
      out("  partkeeper's export by column: " + perColumn.map((c) => `${String(c.name)} ${mb(Number(c.bytes))} (${String(c.encodings)})`).join(", "));
    } finally {
      duck.close();
    }
  } finally {
    await services.release();
  }
  out();
}
