/**
 * Archive throughput and size against limits measured in the same run (never a timed test).
 *
 *   npm run bench                 # 1,000,000 rows
 *   npm run bench -- 200000       # fewer rows
 *   BENCH_PG_BIN=/usr/lib/postgresql/15/bin npm run bench   # on Debian's PostgreSQL 15, with its pg_dump
 *
 * Starts an embedded PostgreSQL and a local S3-compatible server, builds one monthly partition of
 * workflow_events-like rows (bigint, uuid, timestamptz, text, jsonb, numeric), then measures:
 *   limits raw `COPY (SELECT * FROM partition) TO STDOUT` in csv and in binary, drained by a fast
 *          consumer (the binary stream is kept for the restore limit)
 *   export partkeeper's COPY -> named pipe -> DuckDB -> ZSTD Parquet (exportToParquet)
 *   pg_dump `pg_dump -Fc -t partition` (time and bytes), when BENCH_PG_BIN names a bin directory with
 *          pg_dump (the embedded PostgreSQL has none)
 *   archive the whole archive job on that partition: detach, export, upload, download + verify,
 *          manifest, drop (runJob "archive"), with this process's peak RSS and the job's peak
 *          temporary disk (its work directory, polled every 50 ms)
 *   restore restorePartition in side-table and in attach mode, against the limit `COPY FROM STDIN
 *          (FORMAT binary)` of the same rows into a table with the same primary key, and against
 *          `COPY FROM STDIN (FORMAT csv)` of them (the restore loads CSV: the floor of its load)
 * and prints rows/s and each ratio to the limits, plus the Parquet size against the partition's
 * on-disk size (pg_total_relation_size: heap + indexes + TOAST) and pg_dump's. COPY and export run 3
 * times, interleaved, and report medians; the archive job runs once. The two restores and the
 * two COPY FROM limits run BENCH_RESTORE_ROUNDS times (default 3), the order rotating each round, a
 * CHECKPOINT before each, the restored table dropped (detached first in attach mode) after each: medians.
 *
 * `BENCH_PIN_CPUS=1` (Linux, taskset) pins PostgreSQL to CPU 0 and this process (the job, DuckDB and
 * the S3 server) to CPU 1, as when the database runs on its own server: work Postgres does for the
 * job (the archive's content summary) then does not take CPU from the job.
 */
import { execFileSync } from "node:child_process";
import { createReadStream, createWriteStream, readFileSync } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createClient, jobDefinition, openJobContext, parseConfig, qualifiedName, restorePartition, runJob, silentLogger } from "@partkeeper/core";
import { exportToParquet } from "../packages/core/src/parquet/export-parquet.ts";
import { createEventsTable } from "./events-fixture.ts";
import { startBenchServices } from "./local-services.ts";

const rows = Number(process.argv[2] ?? 1_000_000);
const REPEATS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pgBin = process.env.BENCH_PG_BIN;
const services = await startBenchServices("bench", ["bench"], pgBin === undefined ? {} : { binDir: pgBin });
const { root, pg, releasers } = services;

try {
  if (process.env.BENCH_PIN_CPUS === "1") pinCpus(path.join(root, "pg"));
  const sql = createClient(pg.url);
  releasers.push(() => sql.end({ timeout: 5 }));
  process.stdout.write(`building a ${rows.toLocaleString("en-US")}-row partition...\n`);
  await createEventsTable(sql, rows);
  const [size] = await sql`select pg_total_relation_size('events_p2025_01')::float8 as bytes`;
  const partitionBytes = size!.bytes as number;

  const [columnsRow] = await sql`
    select json_agg(json_build_object('name', attname, 'type', format_type(atttypid, atttypmod)) order by attnum) as columns
    from pg_attribute where attrelid = 'events_p2025_01'::regclass and attnum > 0 and not attisdropped`;

  const copyFiles = { binary: path.join(root, "partition.copy"), csv: path.join(root, "partition.csv") };
  /** Limit: raw COPY to a consumer that never pushes back, on its own client (PLATFORM-NOTES); `keep` writes the stream to its file for the COPY FROM limits. */
  const rawCopy = async (format: "csv" | "binary", keep = false) => {
    const copyClient = createClient(pg.url, { max: 1 });
    let bytes = 0;
    const started = performance.now();
    await pipeline(
      await copyClient.unsafe(`copy (select * from events_p2025_01) to stdout (format ${format})`).readable(),
      keep
        ? createWriteStream(copyFiles[format])
        : new Writable({
            write(chunk: Buffer, _encoding, done) {
              bytes += chunk.length;
              done();
            },
          }),
    );
    const ms = performance.now() - started;
    await copyClient.end();
    return { ms, bytes };
  };
  const exportOnce = async () => {
    const workDir = await mkdtemp(path.join(root, "work-"));
    const started = performance.now();
    const exported = await exportToParquet({
      openCopyClient: () => createClient(pg.url, { max: 1 }),
      relation: qualifiedName("public", "events_p2025_01"),
      columns: columnsRow!.columns,
      workDir,
      memoryMb: jobDefinition("archive").memoryMb,
    });
    const ms = performance.now() - started;
    await rm(workDir, { recursive: true, force: true });
    return { ms, bytes: exported.bytes };
  };
  // Interleaved repeats, medians: neither side profits from running first (cache warm-up).
  const copyRuns: number[] = [];
  const binaryRuns: number[] = [];
  const exportRuns: number[] = [];
  let copyBytes = 0;
  for (let i = 0; i < REPEATS; i++) {
    const copy = await rawCopy("csv");
    copyRuns.push(copy.ms);
    copyBytes = copy.bytes;
    binaryRuns.push((await rawCopy("binary")).ms);
    exportRuns.push((await exportOnce()).ms);
  }
  await rawCopy("csv", true);
  await rawCopy("binary", true);
  const copyMs = median(copyRuns);
  const binaryMs = median(binaryRuns);
  const exportMs = median(exportRuns);
  const dump = pgBin === undefined ? null : pgDump(pgBin, pg.url, path.join(root, "partition.dump"));

  const config = parseConfig({
    archive: { location: "s3://bench/archive" },
    tables: [{ table: "events", strategy: "range-time", interval: "month", retention: "1 month", defaultPartition: false }],
  });
  const traceStart = performance.now();
  // BENCH_TRACE=1 prints each recorded archive step with the ms since the job started.
  const logger = process.env.BENCH_TRACE === "1" ? { ...silentLogger, info: (message: string, fields?: object) => process.stderr.write(`${(performance.now() - traceStart).toFixed(0).padStart(6)} ms  ${message} ${JSON.stringify(fields ?? {})}\n`) } : silentLogger;
  // The archive function's memory, as on Lambda: DuckDB's memory_limit follows it (duckdb-session.ts).
  const memoryMb = jobDefinition("archive").memoryMb;
  const { ctx, close } = await openJobContext({ databaseUrl: pg.url, env: process.env, config, logger, memoryMb, clock: () => new Date("2025-03-15T00:00:00Z") });
  releasers.push(close);
  const tempPeak = pollTreeBytes(ctx.workDir);
  const t2 = performance.now();
  const summary = await runJob(ctx, { job: "archive", dryRun: false, only: [qualifiedName("public", "events")] });
  const archiveMs = performance.now() - t2;
  const archiveTempBytes = await tempPeak.stop();
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  const archived = summary.parents[0]?.actions[0]?.archive;
  if (!summary.ok || !archived || archived.rows !== rows) throw new Error(`archive failed: ${JSON.stringify(summary.parents[0])}`);

  const restoreOnce = async (mode: "side-table" | "attach") => {
    const started = performance.now();
    const restored = await restorePartition(ctx, { parent: qualifiedName("public", "events"), partition: "events_p2025_01", mode, dryRun: false });
    if (restored.rows !== rows) throw new Error(`restore (${mode}) gave ${restored.rows} rows`);
    const ms = performance.now() - started;
    // Undone after timing, so the next round restores again (a finished restore record is not reopened).
    await sql.unsafe(mode === "attach" ? "alter table events detach partition events_p2025_01; drop table events_p2025_01" : "drop table events_p2025_01_restored");
    return ms;
  };
  const copyInOnce = async (format: "csv" | "binary") => {
    await sql`create table events_copy_in (like events including all)`;
    const copyIn = createClient(pg.url, { max: 1 });
    await copyIn`set timezone = 'UTC'`;
    const started = performance.now();
    await pipeline(createReadStream(copyFiles[format]), await copyIn.unsafe(`copy events_copy_in from stdin (format ${format})`).writable());
    const ms = performance.now() - started;
    await copyIn.end();
    await sql`drop table events_copy_in`;
    return ms;
  };
  // BENCH_RESTORE_ROUNDS rounds (default 3), the order rotating each round, medians.
  const restoreRounds = Number(process.env.BENCH_RESTORE_ROUNDS ?? 3);
  const restoreRuns = { "side-table": [] as number[], attach: [] as number[], copyIn: [] as number[], copyInCsv: [] as number[] };
  const restoreSteps = [
    ["side-table", () => restoreOnce("side-table")],
    ["attach", () => restoreOnce("attach")],
    ["copyIn", () => copyInOnce("binary")],
    ["copyInCsv", () => copyInOnce("csv")],
  ] as const;
  for (let round = 0; round < restoreRounds; round++) {
    for (let i = 0; i < restoreSteps.length; i++) {
      const [name, step] = restoreSteps[(round + i) % restoreSteps.length]!;
      await sql`checkpoint`;
      if (process.env.BENCH_TRACE === "1") process.stderr.write(`--- round ${round + 1}: ${name}\n`);
      restoreRuns[name].push(await step());
    }
  }
  const sideTableMs = median(restoreRuns["side-table"]);
  const attachMs = median(restoreRuns.attach);
  const copyInMs = median(restoreRuns.copyIn);
  const copyInCsvMs = median(restoreRuns.copyInCsv);
  const runsText = (xs: number[]) => xs.map((ms) => (ms / 1000).toFixed(2)).join(", ");
  const restoreLimits = (ms: number, runs: number[]) =>
    `${(copyInMs / ms).toFixed(2)}x binary, ${(copyInCsvMs / ms).toFixed(2)}x csv COPY FROM (${runsText(runs)} s)`;

  const rate = (ms: number) => Math.round(rows / (ms / 1000));
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
  const line = (name: string, ms: number, limits = `${(copyMs / ms).toFixed(2)}x csv, ${(binaryMs / ms).toFixed(2)}x binary COPY`) =>
    `${name.padEnd(56)} ${(ms / 1000).toFixed(2).padStart(6)} s  ${rate(ms).toLocaleString("en-US").padStart(10)} rows/s  ${limits}`;
  const [server] = await sql`select current_setting('server_version') as v`;
  process.stdout.write(
    [
      `rows ${rows.toLocaleString("en-US")}, PostgreSQL ${server!.v}, node ${process.version}, ${os.cpus().length} cores`,
      line(`limit: raw COPY TO STDOUT (csv), median of ${REPEATS}`, copyMs),
      line(`limit: raw COPY TO STDOUT (binary), median of ${REPEATS}`, binaryMs),
      line(`export: COPY -> DuckDB -> Parquet, median of ${REPEATS}`, exportMs),
      ...(dump ? [line("pg_dump -Fc -t partition", dump.ms)] : ["pg_dump: skipped (set BENCH_PG_BIN to a bin directory with pg_dump)"]),
      line("archive job: detach+export+upload+verify+drop", archiveMs),
      `  with the archive function's ${memoryMb} MB as DuckDB's memory base: peak RSS of this process ${mb(peakRssBytes)} (job, DuckDB, S3 server), peak temporary disk of the job ${mb(archiveTempBytes)}`,
      line(`limit: COPY FROM STDIN (binary), with its PK, median of ${restoreRounds}`, copyInMs, `1.00x (${runsText(restoreRuns.copyIn)} s)`),
      line(`limit: COPY FROM STDIN (csv), with its PK, median of ${restoreRounds}`, copyInCsvMs, `${(copyInMs / copyInCsvMs).toFixed(2)}x binary COPY FROM (${runsText(restoreRuns.copyInCsv)} s)`),
      line(`restore, side table, median of ${restoreRounds}`, sideTableMs, restoreLimits(sideTableMs, restoreRuns["side-table"])),
      line(`restore, attach, median of ${restoreRounds}`, attachMs, restoreLimits(attachMs, restoreRuns.attach)),
      `sizes: partition on disk ${mb(partitionBytes)}, CSV stream ${mb(copyBytes)}, Parquet ${mb(archived.bytes)} ` +
        `(${((archived.bytes / partitionBytes) * 100).toFixed(1)}% of on-disk, ${(partitionBytes / archived.bytes).toFixed(1)}x smaller)` +
        (dump ? `, pg_dump -Fc ${mb(dump.bytes)} (Parquet ${(archived.bytes / dump.bytes).toFixed(2)}x of it)` : ""),
    ].join("\n") + "\n",
  );
} finally {
  await services.release();
}

/** `pg_dump -Fc` of the partition to `file`: wall time and bytes. */
function pgDump(binDir: string, url: string, file: string): { ms: number; bytes: number } {
  const started = performance.now();
  execFileSync(path.join(binDir, "pg_dump"), ["-Fc", "-t", "public.events_p2025_01", "-f", file, url], { stdio: "inherit" });
  return { ms: performance.now() - started, bytes: readFileSync(file).length };
}

/** Polls the total size of the files under `dir` every 50 ms; `stop()` gives the largest seen, bytes. */
function pollTreeBytes(dir: string): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const size = async (at: string): Promise<number> => {
    let total = 0;
    for (const entry of await readdir(at, { withFileTypes: true }).catch(() => [])) {
      const child = path.join(at, entry.name);
      if (entry.isDirectory()) total += await size(child);
      else if (entry.isFile()) total += await stat(child).then((s) => s.size, () => 0);
    }
    return total;
  };
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await size(dir));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

/** Pins the postmaster (and the backends it forks from now on) to CPU 0 and this process to CPU 1. */
function pinCpus(dataDir: string): void {
  const postmaster = readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]!.trim();
  execFileSync("taskset", ["-a", "-p", "0x1", postmaster], { stdio: "ignore" });
  execFileSync("taskset", ["-a", "-p", "0x2", String(process.pid)], { stdio: "ignore" });
  process.stdout.write(`pinned: PostgreSQL (pid ${postmaster}) to CPU 0, this process to CPU 1\n`);
}
