import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { ArchiveError, restorePartition, runJob, type JobContext } from "@partkeeper/core";
import { archiveKeys } from "../packages/core/src/archive/archive-keys.ts";
import { parseManifest } from "../packages/core/src/archive/manifest.ts";
import { qualifiedName } from "../packages/core/src/identifier.ts";
import { createTestDatabase, useTestS3 } from "./helpers.ts";
import { partitionNames, testJobContext } from "./job-context.ts";

const SCHEMA = "Idx Ünï";
const TABLE = 'év"ents';
const parent = qualifiedName(SCHEMA, TABLE);
const P = (suffix: string) => `${TABLE}${suffix}`;
const Q = (name: string) => `"${SCHEMA}"."${name.replaceAll('"', '""')}"`;
const CREATE_LIKE = (name: string) =>
  `CREATE TABLE ${Q(name)} (LIKE ${Q(TABLE)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS`;

/** A context whose logger throws at `message`: a crash right after that step. */
function crashingAt(ctx: JobContext, message: string, step?: string): JobContext {
  const info = (m: string, fields?: Record<string, unknown>) => {
    if (m === message && (step === undefined || String(fields?.step).startsWith(step))) throw new Error(`simulated crash after: ${m}`);
    ctx.logger.info(m, fields);
  };
  return { ...ctx, logger: { ...ctx.logger, info } };
}

describe("restore builds the target's indexes once, after the load (real PostgreSQL + S3)", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();
  await sql.unsafe(`
    create schema "${SCHEMA}";
    create table ${Q(TABLE)} (
      id bigint generated always as identity,
      ts timestamptz not null,
      ref text not null,
      kind text,
      payload jsonb,
      primary key (id, ts),
      unique (ref, ts)
    ) partition by range (ts);
    create index on ${Q(TABLE)} (kind);
    create index on ${Q(TABLE)} (lower(kind)) where kind is not null;
    create index on ${Q(TABLE)} using gin (payload);
    create table ${Q(P("_p2025_01"))} partition of ${Q(TABLE)} for values from ('2025-01-01 00:00:00+00') to ('2025-02-01 00:00:00+00');
    create table ${Q(P("_p2025_02"))} partition of ${Q(TABLE)} for values from ('2025-02-01 00:00:00+00') to ('2025-03-01 00:00:00+00');
    create table ${Q(P("_p2025_03"))} partition of ${Q(TABLE)} for values from ('2025-03-01 00:00:00+00') to ('2025-04-01 00:00:00+00');
    create table ${Q(P("_p2026_11"))} partition of ${Q(TABLE)} for values from ('2026-11-01 00:00:00+00') to ('2026-12-01 00:00:00+00');
    insert into ${Q(TABLE)} (ts, ref, kind, payload)
      select timestamptz '2025-01-01' + g * interval '17 minutes', 'r' || g, (array['A', 'b', null])[1 + g % 3], jsonb_build_object('g', g)
      from generate_series(0, 89 * 24 * 60 / 17) g;
    insert into ${Q(TABLE)} (ts, ref, kind) values ('2026-11-02', 'now', 'A');
    create table public.original_jan as select * from ${Q(P("_p2025_01"))};
  `);
  const ctx = await testJobContext(url, {
    archive: { location },
    tables: [{ schema: SCHEMA, table: TABLE, strategy: "range-time", interval: "month", retention: "6 months" }],
  });
  const store = ctx.store!;
  const janKeys = archiveKeys({ parent, partition: qualifiedName(SCHEMA, P("_p2025_01")) });

  /**
   * The indexes and constraints of `table`, with its name replaced by `<t>`, so a restored partition
   * compares with a sibling Postgres created: definitions, constraint names and types.
   */
  const indexesOf = async (table: string) => {
    const rows = await sql`
      select i.relname as index, pg_get_indexdef(x.indexrelid) as def, c.conname as constraint, c.contype as type,
             (select count(*)::int from pg_inherits h where h.inhrelid = x.indexrelid) as attached
      from pg_index x join pg_class i on i.oid = x.indexrelid
      left join pg_constraint c on c.conindid = x.indexrelid and c.conrelid = x.indrelid
      where x.indrelid = to_regclass(${Q(table)})`;
    const constraints = await sql`
      select conname, contype, pg_get_constraintdef(oid) as def from pg_constraint where conrelid = to_regclass(${Q(table)})`;
    const strip = (text: string | null) => text?.replaceAll(table, "<t>").replaceAll(table.replaceAll('"', '""'), "<t>") ?? null;
    return {
      indexes: rows.map((r) => ({ index: strip(r.index), def: strip(r.def), constraint: strip(r.constraint), type: r.type, attached: r.attached })).sort((a, b) => a.index!.localeCompare(b.index!)),
      constraints: constraints.map((r) => ({ name: strip(r.conname), type: r.contype, def: r.def })).sort((a, b) => a.name!.localeCompare(b.name!)),
    };
  };
  const exists = async (name: string) => {
    const [row] = await sql`select to_regclass(${Q(name)}) is not null as present`;
    return Boolean(row!.present);
  };

  it("archives the expired partitions first", async () => {
    const summary = await runJob(ctx, { job: "archive", dryRun: false });
    expect(summary.ok).toBe(true);
    expect(await partitionNames(sql, SCHEMA, TABLE)).toEqual([P("_p2026_11")]);
  });

  it("attach: the parent's indexes are dropped before the load and built after it, and ATTACH attaches them: the same as a partition Postgres created", async () => {
    const expected = await indexesOf(P("_p2026_11"));
    expect(expected.indexes).toHaveLength(5);
    const result = await restorePartition(ctx, { parent, partition: P("_p2025_01"), mode: "attach", dryRun: false });
    expect(result.status).toBe("restored");
    const t = Q(P("_p2025_01"));
    const statements = result.statements;
    expect(statements[0]).toBe(`${CREATE_LIKE(P("_p2025_01"))} INCLUDING INDEXES)`);
    const load = statements.findIndex((s) => s.startsWith("-- load"));
    const attach = statements.findIndex((s) => s.includes("ATTACH PARTITION"));
    expect(statements.slice(1, load).sort()).toEqual(
      [
        `ALTER TABLE ${t} DROP CONSTRAINT "${P("_p2025_01_pkey").replaceAll('"', '""')}"`,
        `ALTER TABLE ${t} DROP CONSTRAINT "${P("_p2025_01_ref_ts_key").replaceAll('"', '""')}"`,
        `DROP INDEX ${Q(P("_p2025_01_kind_idx"))}`,
        `DROP INDEX ${Q(P("_p2025_01_lower_idx"))}`,
        `DROP INDEX ${Q(P("_p2025_01_payload_idx"))}`,
      ].sort(),
    );
    const builds = statements.slice(load + 1, attach);
    expect(builds).toHaveLength(5);
    expect(builds.filter((s) => s.startsWith(`ALTER TABLE ${t} ADD CONSTRAINT`))).toHaveLength(2);
    expect(builds.filter((s) => s.startsWith("CREATE INDEX"))).toHaveLength(3);
    expect(statements.slice(attach)).toEqual([
      `ALTER TABLE ${Q(TABLE)} ATTACH PARTITION ${t} FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2025-02-01 00:00:00+00')`,
    ]);
    // Exactly the sibling's indexes, each attached to the parent's (ATTACH built none of its own).
    expect(await indexesOf(P("_p2025_01"))).toEqual(expected);
    const diff = await sql.unsafe(`(select * from public.original_jan except all select * from ${t}) union all (select * from ${t} except all select * from public.original_jan)`);
    expect(diff).toEqual([]);
  });

  it("side table: created without indexes, as before (a table for reading old rows)", async () => {
    const result = await restorePartition(ctx, { parent, partition: P("_p2025_01"), mode: "side-table", target: "jan side", dryRun: false });
    expect(result.statements).toEqual([`${CREATE_LIKE("jan side")})`, expect.stringMatching(/^-- load \d+ rows from /)]);
    expect((await indexesOf("jan side")).indexes).toEqual([]);
  });

  it("dry run in attach mode: the plan says where the indexes are set aside and built", async () => {
    const result = await restorePartition(ctx, { parent, partition: P("_p2025_02"), mode: "attach", dryRun: true });
    expect(result.statements).toEqual([
      `${CREATE_LIKE(P("_p2025_02"))} INCLUDING INDEXES)`,
      `-- drop the indexes of ${Q(P("_p2025_02"))} until it is loaded`,
      expect.stringMatching(/^-- load \d+ rows from /),
      `-- build the indexes of ${Q(P("_p2025_02"))} again`,
      `ALTER TABLE ${Q(TABLE)} ATTACH PARTITION ${Q(P("_p2025_02"))} FOR VALUES FROM ('2025-02-01 00:00:00+00') TO ('2025-03-01 00:00:00+00')`,
    ]);
    expect(await exists(P("_p2025_02"))).toBe(false);
  });

  it("a crash between the load and the index build: the re-run attaches, ATTACH builds the same indexes", async () => {
    const expected = await indexesOf(P("_p2026_11"));
    const crash = await restorePartition(crashingAt(ctx, "target checked against the manifest"), { parent, partition: P("_p2025_02"), mode: "attach", dryRun: false }).catch(
      (e: Error) => e,
    );
    expect((crash as Error).message).toMatch(/simulated crash/);
    expect((await indexesOf(P("_p2025_02"))).indexes).toEqual([]);
    const resumed = await restorePartition(ctx, { parent, partition: P("_p2025_02"), mode: "attach", dryRun: false });
    expect(resumed.status).toBe("restored");
    expect(resumed.statements.some((s) => s.startsWith("-- load"))).toBe(false);
    expect(await indexesOf(P("_p2025_02"))).toEqual(expected);
    const records = await sql`select state from partkeeper.restore where partition_name = ${P("_p2025_02")} order by id`;
    expect(records.map((r) => r.state)).toEqual(["attached"]);
  });

  it("a crash after CREATE, before the indexes are dropped: the re-run reads them again, drops, loads and builds them", async () => {
    const expected = await indexesOf(P("_p2026_11"));
    const crash = await restorePartition(crashingAt(ctx, "ddl applied", "create "), { parent, partition: P("_p2025_03"), mode: "attach", dryRun: false }).catch((e: Error) => e);
    expect((crash as Error).message).toMatch(/simulated crash/);
    expect((await indexesOf(P("_p2025_03"))).indexes).toHaveLength(5);
    const resumed = await restorePartition(ctx, { parent, partition: P("_p2025_03"), mode: "attach", dryRun: false });
    expect(resumed.status).toBe("restored");
    const load = resumed.statements.findIndex((s) => s.startsWith("-- load"));
    expect(resumed.statements.slice(0, load).filter((s) => s.startsWith("DROP INDEX") || s.includes("DROP CONSTRAINT"))).toHaveLength(5);
    expect(await indexesOf(P("_p2025_03"))).toEqual(expected);
  });

  it("loads an archive of several objects one at a time", async () => {
    const real = parseManifest(await store.getJson(janKeys.manifest), "real");
    const ghost = qualifiedName(SCHEMA, "twice_p2025_01");
    // The same object twice (no content summary: the rows are doubled), as a manifest of two parts would list two.
    const { content: _content, ...withoutContent } = real;
    const manifest = { ...withoutContent, partition: ghost, rows: real.rows * 2, bytes: real.bytes * 2, objects: [...real.objects, ...real.objects] };
    expect(await store.putJson(archiveKeys({ parent, partition: ghost }).manifest, manifest)).toBe("created");
    const result = await restorePartition(ctx, { parent, partition: ghost.name, mode: "side-table", dryRun: false });
    expect(result.status).toBe("restored");
    expect(result.statements.filter((s) => s.startsWith("-- load"))).toHaveLength(2);
    const [count] = await sql.unsafe(`select count(*)::int as n from ${Q("twice_p2025_01_restored")}`);
    expect(count!.n).toBe(real.rows * 2);
    expect((await readdir(ctx.workDir)).filter((f) => f.endsWith(".parquet"))).toEqual([]);
  });

  it("a bad second object: the first was loaded, the target is dropped again, nothing is restored, no file is left", async () => {
    const real = parseManifest(await store.getJson(janKeys.manifest), "real");
    const ghost = qualifiedName(SCHEMA, "bad_p2025_01");
    const bogus = "0".repeat(64);
    const manifest = { ...real, partition: ghost, rows: real.rows * 2, bytes: real.bytes * 2, objects: [...real.objects, ...real.objects.map((o) => ({ ...o, sha256: bogus }))] };
    expect(await store.putJson(archiveKeys({ parent, partition: ghost }).manifest, manifest)).toBe("created");
    const error = await restorePartition(ctx, { parent, partition: ghost.name, mode: "side-table", dryRun: false }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ArchiveError);
    expect((error as Error).message).toMatch(
      new RegExp(`the manifest says \\d+ bytes with sha256 ${bogus}; Idx Ünï\\.bad_p2025_01_restored, loaded from the 1 object\\(s\\) before it, was dropped again: nothing is restored`),
    );
    expect(await exists("bad_p2025_01_restored")).toBe(false);
    expect((await readdir(ctx.workDir)).filter((f) => f.endsWith(".parquet"))).toEqual([]);
    // The record stays `loading`: a re-run (after the object is fixed) is this restore again and fails the same way meanwhile.
    const again = await restorePartition(ctx, { parent, partition: ghost.name, mode: "side-table", dryRun: false }).catch((e: Error) => e);
    expect((again as Error).message).toMatch(/was dropped again: nothing is restored/);
    const records = await sql`select state from partkeeper.restore where partition_name = 'bad_p2025_01'`;
    expect(records.map((r) => r.state)).toEqual(["loading"]);
  });
});
