import path from "node:path";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { runJob } from "@partkeeper/core";
import { openDuckdb } from "../packages/core/src/parquet/duckdb-session.ts";
import { createTestDatabase, useTestS3 } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";

const NOW = new Date("2026-11-21T12:00:00Z");

interface WriterLog {
  committed: number[];
  errors: string[];
}

/**
 * Inserts one row per statement into `table` (by name) until `stop()`, ids from `firstId` up; logs
 * which ids committed and every error. `ts` is computed from the id by `tsFor`.
 */
function startWriter(url: string, table: string, firstId: number, tsFor: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const log: WriterLog = { committed: [], errors: [] };
  let running = true;
  const done = (async () => {
    for (let id = firstId; running; id++) {
      try {
        await sql.unsafe(`insert into ${table} (id, ts, note) values ($1, ${tsFor}, 'written during the archive')`, [id]);
        log.committed.push(id);
      } catch (error) {
        log.errors.push((error as Error).message);
      }
    }
  })();
  return {
    log,
    async stop() {
      running = false;
      await done;
      await sql.end({ timeout: 5 });
    },
  };
}

describe("archive beside a live application", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();
  await sql.unsafe(`
    create table live (id bigint not null, ts timestamptz not null, note text, primary key (id, ts)) partition by range (ts);
    create table live_p2026_05 partition of live for values from ('2026-05-01 00:00:00+00') to ('2026-06-01 00:00:00+00');
    create table live_p2026_11 partition of live for values from ('2026-11-01 00:00:00+00') to ('2026-12-01 00:00:00+00');
    insert into live (id, ts, note) select g, timestamptz '2026-05-01 00:00:00+00' + (g % 2592000) * interval '1 second', repeat('x', 200)
      from generate_series(1, 200000) g;
  `);
  const ctx = await testJobContext(url, {
    archive: { location },
    tables: [{ table: "live", strategy: "range-time", interval: "month", retention: "3 months", defaultPartition: false }],
  }, { now: NOW });

  it("loses no committed row written into the partition by name, and never fails writers through the parent", async () => {
    const byName = startWriter(url, "live_p2026_05", 10_000_000, "timestamptz '2026-05-20 00:00:00+00'");
    const throughParent = startWriter(url, "live", 20_000_000, "timestamptz '2026-11-20 00:00:00+00'");
    let summary;
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      summary = await runJob(ctx, { job: "archive", dryRun: false });
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      await byName.stop();
      await throughParent.stop();
    }
    expect(summary.ok).toBe(true);
    const archive = summary.parents[0]!.actions[0]!.archive!;
    expect(archive.finalState).toBe("dropped");

    // Writers through the parent never failed and lost nothing.
    expect(throughParent.log.errors).toEqual([]);
    expect(throughParent.log.committed.length).toBeGreaterThan(0);
    const [parentRows] = await sql`select count(*)::int as n from live where id >= 20000000`;
    expect(parentRows!.n).toBe(throughParent.log.committed.length);

    // Writes by name into the detached partition failed loudly (guard, then "does not exist" after
    // the drop); every one that committed is in the archive.
    expect(byName.log.committed.length).toBeGreaterThan(0);
    expect(byName.log.errors.length).toBeGreaterThan(0);
    for (const message of new Set(byName.log.errors)) {
      expect(message).toMatch(/is detached and being archived by partkeeper: it is read-only|relation "live_p2026_05" does not exist|could not open relation/);
    }
    const file = path.join(ctx.workDir, "live.parquet");
    await ctx.store!.getToFile(archive.objectKey, file);
    const duck = await openDuckdb(ctx.workDir);
    try {
      const rows = await duck.query(`SELECT CAST(id AS VARCHAR) AS id FROM read_parquet('${file}') WHERE id >= 10000000`, "ids");
      const archived = new Set(rows.map((r) => Number(r.id)));
      const lost = byName.log.committed.filter((id) => !archived.has(id));
      expect(lost).toEqual([]);
      expect(archive.rows).toBe(200_000 + byName.log.committed.length);
    } finally {
      duck.close();
    }
  });
});
