/**
 * The record-history consolidation (examples/record-history) against a limit measured in the same
 * run (never a timed test):
 *
 *   npx tsx bench/record-history.ts                          # 300,000 changes of 30,000 records
 *   npx tsx bench/record-history.ts --changes 60000 --records 6000
 *
 * Seeds one database with the legacy schema and copies it (CREATE DATABASE ... TEMPLATE) per measurement:
 *   limit      prepare (a run stopped before its first batch: targets, partitions, the transform
 *              function), then the whole transform in one statement over every record;
 *   partkeeper `migrate run` from the start to verified, with capture and a steady legacy writer
 *              (2 connections, one change of a record each, examples/record-history/legacy-app.ts); backfill time from the record;
 * then the storage of the five old tables against the three new ones, and the writers' latency
 * (p50 / p99 / max) before the migration and during it.
 */
import { parseArgs } from "node:util";
import { createClient, openJobContext, parseConfig, runMigrations, silentLogger, type Sql } from "@partkeeper/core";
import recordHistory, { recordHistoryPolicy } from "../examples/record-history/migration.ts";
import { seedRecordHistory } from "../examples/record-history/seed.ts";
import { writeLegacyChange } from "../examples/record-history/legacy-app.ts";
import { latencies, startWriters } from "./app-writers.ts";
import { startBenchServices } from "./local-services.ts";

const { values: args } = parseArgs({ options: { changes: { type: "string", default: "300000" }, records: { type: "string", default: "30000" } } });
const changes = Number(args.changes);
const records = Number(args.records);
const out = (line = "") => process.stdout.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const ID = (recordHistory as { id: string }).id;

const services = await startBenchServices("record-history");
const { pg, releasers } = services;
const databaseUrl = (name: string) => Object.assign(new URL(pg.url), { pathname: `/${name}` }).toString();
const config = parseConfig({ archive: { location: "s3://bench/none" }, tables: [recordHistoryPolicy], migrations: [{ ...(recordHistory as object), swap: "manual" }] });
const admin = createClient(pg.url, { max: 1 });
releasers.push(() => admin.end({ timeout: 5 }));

async function database(name: string, template: string | null): Promise<Sql> {
  await admin.unsafe(`create database ${name}${template ? ` template ${template} strategy file_copy` : ""}`);
  const sql = createClient(databaseUrl(name), { max: 3 });
  releasers.push(() => sql.end({ timeout: 5 }));
  return sql;
}

async function context(name: string, deadline?: number) {
  const { ctx, close } = await openJobContext({ databaseUrl: databaseUrl(name), env: {}, config, logger: silentLogger, ...(deadline === undefined ? {} : { deadline }) });
  releasers.push(close);
  return ctx;
}

try {
  const seed = await database("seed", null);
  const seedStart = performance.now();
  const seeded = await seedRecordHistory(seed, { records, changes });
  out(`seeded ${changes.toLocaleString("en-US")} changes of ${records.toLocaleString("en-US")} records (${seeded.fieldRows.toLocaleString("en-US")} field rows) in ${seconds(performance.now() - seedStart)}`);
  await seed.end();

  // Limit: the same transform in one statement, after the same prepare.
  const limitSql = await database("limit_round", "seed");
  const stopped = await runMigrations(await context("limit_round", 0), { action: "run", dryRun: false });
  if (stopped.migrations[0]!.stateAfter !== "backfilling") throw new Error(`limit prepare: ${stopped.migrations[0]!.message}`);
  const limitStart = performance.now();
  await limitSql.unsafe(`select partkeeper."${ID}.transform"(array(select uid from public.record))`);
  const limitMs = performance.now() - limitStart;

  // partkeeper, with a steady legacy writer.
  const runSql = await database("run_round", "seed");
  const uids = (await runSql`select uid from record`).map((r) => r.uid as string);
  const app = startWriters(databaseUrl("run_round"), {
    writers: 2,
    intervalMs: 5,
    write: (sql, w, i) => writeLegacyChange(sql, uids[(i * 7919 + w * 104729) % uids.length]!, i, "bench"),
  });
  const beforeStart = performance.now();
  await new Promise((r) => setTimeout(r, 5000));
  const runStart = performance.now();
  const summary = await runMigrations(await context("run_round"), { action: "run", dryRun: false });
  const runEnd = performance.now();
  const runMs = runEnd - runStart;
  await app.stop();
  const outcome = summary.migrations[0]!;
  if (outcome.stateAfter !== "verified") throw new Error(`run: ${outcome.message}`);
  const [record] = await runSql`select backfill_ms::float8 as ms, rows_copied::int8 as rows from partkeeper.data_migration where id = ${ID}`;
  const backfillMs = Number(record!.ms);

  out();
  out("| | time | records/s | changes/s | share of the limit |");
  out("|---|---|---|---|---|");
  const row = (what: string, ms: number) =>
    out(`| ${what} | ${seconds(ms)} | ${Math.round(records / (ms / 1000)).toLocaleString("en-US")} | ${Math.round(changes / (ms / 1000)).toLocaleString("en-US")} | ${(limitMs / ms).toFixed(2)}x |`);
  row("limit: the transform in one statement over every record", limitMs);
  row("partkeeper backfill batches (with capture, a legacy writer, drains)", backfillMs);
  row("partkeeper `migrate run` to verified (prepare, backfill, verify)", runMs);

  const sizes = await runSql`
    select c.relname as name, pg_total_relation_size(c.oid)::float8 + coalesce((select sum(pg_total_relation_size(i.inhrelid))::float8 from pg_inherits i where i.inhparent = c.oid), 0) as bytes
    from pg_class c where c.relnamespace = 'public'::regnamespace and c.relname in
      ('record_history', 'record_field_history', 'record_version', 'record_snapshot', 'record_restore', 'record_history_v2', 'record_version_v2', 'record_major_snapshot')`;
  const mib = (names: string[]) => sizes.filter((s) => names.includes(s.name as string)).reduce((a, s) => a + Number(s.bytes), 0) / 2 ** 20;
  const old = mib(["record_history", "record_field_history", "record_version", "record_snapshot", "record_restore"]);
  const neu = mib(["record_history_v2", "record_version_v2", "record_major_snapshot"]);
  out();
  const change = Math.round((neu / old - 1) * 100);
  out(`storage: five old tables ${old.toFixed(1)} MiB, three new ${neu.toFixed(1)} MiB (${Math.abs(change)} % ${change > 0 ? "more" : "less"})`);
  const stats = (phase: string, from: number, to: number) => {
    const l = latencies(app.writes, from, to);
    return `${phase}: ${l.count} changes, p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(2)} ms`;
  };
  out(`legacy writer latency ${stats("before", beforeStart, runStart)}; ${stats("during", runStart, runEnd)}; ${app.failed()} failed`);
} finally {
  await services.release();
}
