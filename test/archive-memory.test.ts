import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { createClient, runJob } from "@partkeeper/core";
import { openDuckdb } from "../packages/core/src/parquet/duckdb-session.ts";
import { exportToParquet, maxLineBytes } from "../packages/core/src/parquet/export-parquet.ts";
import { loadParquet } from "../packages/core/src/parquet/load-parquet.ts";
import { JOBS } from "../packages/core/src/jobs.ts";
import { createTestDatabase, relationColumns, useTestS3 } from "./helpers.ts";
import { partitionNames, testJobContext } from "./job-context.ts";

const MiB = 1024 * 1024;
const ARCHIVE_MEMORY_MB = JOBS.find((j) => j.name === "archive")!.memoryMb;

describe("export and load within the archive function's memory", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();
  await sql.unsafe(`
    create table wide (id bigint not null, ts timestamptz not null, run_id uuid, payload jsonb, amount numeric(12,2), note text,
      primary key (id, ts)) partition by range (ts);
    create table wide_p2026_05 partition of wide for values from ('2026-05-01 00:00:00+00') to ('2026-06-01 00:00:00+00');
    create table wide_p2026_11 partition of wide for values from ('2026-11-01 00:00:00+00') to ('2026-12-01 00:00:00+00');
    insert into wide select g, timestamptz '2026-05-01 00:00:00+00' + (g % 2592000) * interval '1 second', gen_random_uuid(),
      jsonb_build_object('g', g, 'tags', jsonb_build_array('a', 'b')), g / 100.0, 'row ' || g from generate_series(1, 100000) g;
    insert into wide select 100000 + g, timestamptz '2026-05-03 00:00:00+00', gen_random_uuid(), '{}', 1, repeat('4 MB value ', 400000)
      from generate_series(1, 3) g;
  `);
  const columns = await relationColumns(sql, { schema: "public", name: "wide_p2026_05" });

  it("gives DuckDB 60 % of the function's memory and a CSV line limit that fits it", async () => {
    const scratch = await mkdtemp(path.join(os.tmpdir(), "partkeeper-memory-"));
    onTestFinished(() => rm(scratch, { recursive: true, force: true }));
    const duck = await openDuckdb(scratch, { memoryMb: ARCHIVE_MEMORY_MB });
    try {
      const [row] = await duck.query("SELECT current_setting('memory_limit') AS m", "read memory_limit");
      expect(row!.m).toBe("1.1 GiB"); // 1228 MB
    } finally {
      duck.close();
    }
    expect(maxLineBytes(1228 * MiB)).toBe(16 * MiB);
    expect(maxLineBytes(null)).toBe(256 * MiB);
    expect(maxLineBytes(100 * MiB)).toBe(4 * MiB);
  });

  it(`exports and loads back 100k rows and 4 MB values under a ${ARCHIVE_MEMORY_MB} MB memory limit, exactly`, async () => {
    const workDir = await mkdtemp(path.join(os.tmpdir(), "partkeeper-memory-"));
    onTestFinished(() => rm(workDir, { recursive: true, force: true }));
    const exported = await exportToParquet({
      openCopyClient: () => createClient(url, { max: 1 }),
      relation: { schema: "public", name: "wide_p2026_05" },
      columns,
      workDir,
      memoryMb: ARCHIVE_MEMORY_MB,
    });
    expect(exported.rows).toBe(100_003);
    await sql`create table wide_back (like wide_p2026_05)`;
    const loaded = await loadParquet({
      openCopyClient: () => createClient(url, { max: 1 }),
      file: exported.file,
      target: { schema: "public", name: "wide_back" },
      columns: exported.columns,
      workDir,
      memoryMb: ARCHIVE_MEMORY_MB,
    });
    expect(loaded.rows).toBe(100_003);
    const diff = await sql`select count(*)::int as n from ((table wide_p2026_05 except all table wide_back) union all (table wide_back except all table wide_p2026_05)) d`;
    expect(diff[0]!.n).toBe(0);
  });

  it("attaches the partition again when its export fails, so no row is invisible after the run", async () => {
    // 256 MB of memory: DuckDB may read CSV lines up to 4 MiB, and three rows are longer.
    const small = await testJobContext(url, {
      archive: { location },
      tables: [{ table: "wide", strategy: "range-time", interval: "month", retention: "3 months", defaultPartition: false }],
    }, { memoryMb: 256 });
    const failed = await runJob(small, { job: "archive", dryRun: false });
    const outcome = failed.parents[0]!.actions[0]!;
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toContain("public.wide_p2026_05 has a row longer than 4 MiB as CSV");
    expect(outcome.error).toContain("give the archive function more memory");
    expect(outcome.error).toContain("public.wide_p2026_05 is attached to public.wide again until the next run");
    expect(await partitionNames(sql, "public", "wide")).toContain("wide_p2026_05");
    const [visible] = await sql`select count(*)::int as n from wide where ts < '2026-06-01'`;
    expect(visible!.n).toBe(100_003);
    const [record] = await sql`select state, last_error from partkeeper.archive where partition_name = 'wide_p2026_05'`;
    expect(record!.state).toBe("detached");
    expect(record!.last_error).toContain("longer than 4 MiB");

    const enough = await testJobContext(url, {
      archive: { location },
      tables: [{ table: "wide", strategy: "range-time", interval: "month", retention: "3 months", defaultPartition: false }],
    }, { memoryMb: ARCHIVE_MEMORY_MB });
    const archived = await runJob(enough, { job: "archive", dryRun: false });
    expect(archived.ok).toBe(true);
    expect(archived.parents[0]!.actions[0]!.archive).toMatchObject({ rows: 100_003, finalState: "dropped" });
  });
});
