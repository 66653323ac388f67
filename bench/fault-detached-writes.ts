/**
 * Fault figure (not a timed test): rows written by name into a partition while it is being archived.
 *
 *   npx tsx bench/fault-detached-writes.ts [rounds]     # default 5 rounds
 *
 * Per round: a parent with an expired 50k-row May partition; the archive job runs; the moment it
 * records `verified` (the window between verification and drop, where the defect lost rows), four
 * connections start inserting into the partition by name until the run ends. Afterwards every
 * committed row must be in the archive (read back from S3 with DuckDB) or in a partition that was
 * kept. Prints per round: inserts committed, inserts refused, rows lost, and the run's outcome.
 * Uses only APIs that exist before and after the archive guard, so it measures both.
 */
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import postgres from "postgres";
import { openJobContext, parseConfig, runJob, silentLogger, type Logger } from "@partkeeper/core";
import { startBenchServices } from "./local-services.ts";

const rounds = Number(process.argv[2] ?? 5);
const services = await startBenchServices("fault", ["fault"]);
const { root, pg, releasers } = services;

try {
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  releasers.push(() => sql.end({ timeout: 5 }));
  const writers = postgres(pg.url, { max: 4, onnotice: () => {} });
  releasers.push(() => writers.end({ timeout: 5 }));
  const duck = await (await DuckDBInstance.create(":memory:")).connect();

  let totalLost = 0;
  for (let round = 1; round <= rounds; round++) {
    const parent = `race${round}`;
    const partition = `${parent}_p2026_05`;
    await sql.unsafe(`
      create table ${parent} (id bigint not null, ts timestamptz not null, note text, primary key (id, ts)) partition by range (ts);
      create table ${partition} partition of ${parent} for values from ('2026-05-01 00:00:00+00') to ('2026-06-01 00:00:00+00');
      create table ${parent}_p2026_11 partition of ${parent} for values from ('2026-11-01 00:00:00+00') to ('2026-12-01 00:00:00+00');
      insert into ${parent} select g, timestamptz '2026-05-01 00:00:00+00' + g * interval '1 second', 'seed' from generate_series(1, 50000) g;
    `);
    const committed: number[] = [];
    let refused = 0;
    let writing = false;
    let nextId = 10_000_000;
    const loops: Array<Promise<void>> = [];
    const write = async () => {
      while (writing) {
        const id = nextId++;
        try {
          await writers.unsafe(`insert into ${partition} (id, ts, note) values ($1, '2026-05-20 00:00:00+00', 'late')`, [id]);
          committed.push(id);
        } catch {
          refused++;
        }
      }
    };
    const logger: Logger = {
      ...silentLogger,
      info(message, fields) {
        if (message === "archive step recorded" && fields?.state === "verified" && !writing) {
          writing = true;
          for (let i = 0; i < 4; i++) loops.push(write());
        }
      },
    };
    const { ctx, close } = await openJobContext({
      databaseUrl: pg.url,
      env: process.env,
      config: parseConfig({
        archive: { location: `s3://fault/round${round}` },
        tables: [{ table: parent, strategy: "range-time", interval: "month", retention: "3 months", defaultPartition: false }],
      }),
      logger,
      clock: () => new Date("2026-11-21T12:00:00Z"),
    });
    let outcome: string;
    let lost = 0;
    try {
      const summary = await runJob(ctx, { job: "archive", dryRun: false });
      await new Promise((resolve) => setTimeout(resolve, 100));
      writing = false;
      await Promise.all(loops);
      const action = summary.parents[0]!.actions[0]!;
      const [exists] = await sql`select to_regclass(${partition}) is not null as present`;
      if (exists!.present) {
        const [inTable] = await sql.unsafe(`select count(*)::int as n from ${partition} where id >= 10000000`);
        lost = committed.length - inTable!.n;
        outcome = `${action.status}, partition kept (${action.error ?? action.archive?.finalState})`;
      } else {
        const file = path.join(root, `${parent}.parquet`);
        await ctx.store!.getToFile(action.archive!.objectKey, file);
        const reader = await duck.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}') WHERE id >= 10000000`);
        const archived = Number(reader.getRowObjectsJson()[0]!.n);
        lost = committed.length - archived;
        outcome = `${action.status}, partition dropped, ${archived} late rows in the archive`;
      }
    } finally {
      writing = false;
      await Promise.all(loops);
      await close();
    }
    totalLost += lost;
    console.log(`round ${round}: ${committed.length} late inserts committed, ${refused} refused, ${lost} rows lost; ${outcome}`);
  }
  console.log(`total rows lost over ${rounds} rounds: ${totalLost}`);
} finally {
  await services.release();
}
