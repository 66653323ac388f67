import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ArchiveError, ConfigError, restorePartition, runJob, type RestoreResult } from "@partkeeper/core";
import { archiveKeys } from "../packages/core/src/archive/archive-keys.ts";
import { parseManifest } from "../packages/core/src/archive/manifest.ts";
import { defaultRestoreTarget } from "../packages/core/src/restore/restore-sql.ts";
import { qualifiedName } from "../packages/core/src/identifier.ts";
import { handler as restoreHandler } from "../packages/functions/src/restore.ts";
import { invokeHandler, runCli, useLambdaEnvironment } from "./doors.ts";
import { createTestDatabase, listObjects, useTestS3 } from "./helpers.ts";
import { partitionNames, testJobContext } from "./job-context.ts";

const SCHEMA = "Sales Ünïcode";
const TABLE = 'hej"hej Événements';
const parent = qualifiedName(SCHEMA, TABLE);
const P = (suffix: string) => `${TABLE}${suffix}`;
/** `"Sales Ünïcode"."hej""hej Événements<suffix>"` */
const Q = (name: string) => `"${SCHEMA}"."${name.replaceAll('"', '""')}"`;
const COLUMNS = `id, "createdAt", u, amount, payload, "note ""q""", blob`;

/** Invokes the restore handler with its output (Powertools JSON logs, EMF) captured. */
function invokeLambda(event: unknown): Promise<{ result?: RestoreResult; error?: Error }> {
  return invokeHandler(restoreHandler, event);
}

describe("restore an archived partition (real PostgreSQL + S3)", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();
  await sql.unsafe(`
    create schema "${SCHEMA}";
    create table ${Q(TABLE)} (
      id bigint generated always as identity,
      "createdAt" timestamptz not null,
      u uuid,
      amount numeric(12,2),
      payload jsonb,
      "note ""q""" text,
      blob bytea
    ) partition by range ("createdAt");
    create table ${Q(P("_p2025_01"))} partition of ${Q(TABLE)} for values from ('2025-01-01 00:00:00+00') to ('2025-02-01 00:00:00+00');
    create table ${Q(P("_p2025_02"))} partition of ${Q(TABLE)} for values from ('2025-02-01 00:00:00+00') to ('2025-03-01 00:00:00+00');
    create table ${Q(P("_p2025_03"))} partition of ${Q(TABLE)} for values from ('2025-03-01 00:00:00+00') to ('2025-04-01 00:00:00+00');
    create table ${Q(P("_p2026_11"))} partition of ${Q(TABLE)} for values from ('2026-11-01 00:00:00+00') to ('2026-12-01 00:00:00+00');
    create table ${Q(P("_default"))} partition of ${Q(TABLE)} default;
    insert into ${Q(TABLE)} ("createdAt", u, amount, payload, "note ""q""", blob) values
      ('2025-01-01 00:00:00.000001+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 1234567890.12, '{"a": [1, 2.50, null], "s": "é☃", "q": "\\"x\\""}',
       E'it''s "quoted", comma\\nnew line\\r\\nand a tab\\there, é ☃ 𝄞', '\\x00ff0a5c'),
      ('2025-01-31 23:59:59.999999+00', null, null, null, null, null),
      ('2025-01-15 12:00:00.5+00', '00000000-0000-0000-0000-000000000000', -0.01, '"just a string"', '', '\\x'),
      ('2025-01-16 00:00:00+00', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 0, '{}', 'NULL', '\\x4e554c4c');
    insert into ${Q(TABLE)} ("createdAt", u, amount, payload, "note ""q""", blob)
      select timestamptz '2025-01-02 00:00:00+00' + g * interval '1 hour 0.000123 second', md5(g::text)::uuid, g * 1.25 - 100,
             jsonb_build_object('g', g, 'nested', jsonb_build_object('n', null)), repeat('x"', g % 7) || g, decode(md5(g::text), 'hex')
      from generate_series(1, 300) g;
    insert into ${Q(TABLE)} ("createdAt", amount) select timestamptz '2025-02-01' + g * interval '1 hour', g from generate_series(0, 49) g;
    insert into ${Q(TABLE)} ("createdAt", amount) select timestamptz '2025-03-01' + g * interval '1 hour', g from generate_series(0, 39) g;
    insert into ${Q(TABLE)} ("createdAt", amount) select timestamptz '2026-11-01' + g * interval '1 hour', g from generate_series(0, 9) g;
    -- The originals, taken before archiving, to compare restored rows with.
    create table public.original_jan as select * from ${Q(P("_p2025_01"))};
  `);
  const config = {
    archive: { location },
    tables: [{ schema: SCHEMA, table: TABLE, strategy: "range-time" as const, interval: "month" as const, retention: "6 months", premake: 1 }],
  };
  const ctx = await testJobContext(url, config);
  const store = ctx.store!;
  const dir = await mkdtemp(path.join(os.tmpdir(), "partkeeper-restore-"));
  const configFile = path.join(dir, "partkeeper.config.json");
  await writeFile(configFile, JSON.stringify(config));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const exists = async (name: string) => {
    const [row] = await sql`select to_regclass(${Q(name)}) is not null as present`;
    return Boolean(row!.present);
  };
  const exceptAll = async (a: string, b: string) =>
    sql.unsafe(`(select ${COLUMNS} from ${a} except all select ${COLUMNS} from ${b}) union all (select ${COLUMNS} from ${b} except all select ${COLUMNS} from ${a})`);
  const janKeys = archiveKeys({ parent, partition: qualifiedName(SCHEMA, P("_p2025_01")) });

  it("archives the expired partitions first (the archive job, fixed clock)", async () => {
    const summary = await runJob(ctx, { job: "archive", dryRun: false });
    expect(summary.ok).toBe(true);
    expect(summary.parents[0]!.actions.map((a) => [a.action.partition.name, a.status, a.archive?.rows])).toEqual([
      [P("_p2025_01"), "applied", 304],
      [P("_p2025_02"), "applied", 50],
      [P("_p2025_03"), "applied", 40],
    ]);
    expect(await partitionNames(sql, SCHEMA, TABLE)).toEqual([P("_default"), P("_p2026_11")]);
  });

  it("restores into a side table: every value comes back identical (EXCEPT ALL both ways is empty)", async () => {
    const result = await restorePartition(ctx, { parent, partition: P("_p2025_01"), mode: "side-table", dryRun: false });
    expect(result).toMatchObject({
      parent,
      partition: qualifiedName(SCHEMA, P("_p2025_01")),
      target: qualifiedName(SCHEMA, P("_p2025_01_restored")),
      mode: "side-table",
      rows: 304,
      manifestUrl: `${location}/${janKeys.manifest}`,
      status: "restored",
      columnsFrom: "parent",
      ok: true,
    });
    expect(result.statements).toEqual([
      `CREATE TABLE ${Q(P("_p2025_01_restored"))} (LIKE ${Q(TABLE)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)`,
      `-- load 304 rows from ${location}/${janKeys.data} into ${Q(P("_p2025_01_restored"))}`,
    ]);
    expect(await exceptAll("public.original_jan", Q(P("_p2025_01_restored")))).toEqual([]);
    // Text forms too: numeric scale, timestamp micros, jsonb, bytea.
    const text = await sql.unsafe(
      `(select t::text from public.original_jan t except all select t::text from ${Q(P("_p2025_01_restored"))} t)
       union all (select t::text from ${Q(P("_p2025_01_restored"))} t except all select t::text from public.original_jan t)`,
    );
    expect(text).toEqual([]);
    const [nulls] = await sql.unsafe(`select count(*)::int as n from ${Q(P("_p2025_01_restored"))} where u is null and payload is null and blob is null`);
    expect(nulls!.n).toBe(1);
    expect(await partitionNames(sql, SCHEMA, TABLE)).not.toContain(P("_p2025_01_restored"));
    const [record] = await sql`select mode, state, rows::int, target_name, manifest_key from partkeeper.restore where id = ${result.restoreId}`;
    expect(record).toEqual({ mode: "side-table", state: "loaded", rows: 304, target_name: P("_p2025_01_restored"), manifest_key: janKeys.manifest });
  });

  it("is idempotent: the same side-table restore again reports `already restored` and loads nothing", async () => {
    const again = await restorePartition(ctx, { parent, partition: P("_p2025_01"), mode: "side-table", dryRun: false });
    expect(again.status).toBe("already restored");
    expect(again.statements).toEqual([]);
    const [count] = await sql.unsafe(`select count(*)::int as n from ${Q(P("_p2025_01_restored"))}`);
    expect(count!.n).toBe(304);
  });

  it("refuses a target with other contents, telling to drop it or pass another target", async () => {
    await sql.unsafe(`create table ${Q("occupied")} (like ${Q(TABLE)}); insert into ${Q("occupied")} ("id", "createdAt") values (1, now())`);
    await expect(restorePartition(ctx, { parent, partition: P("_p2025_01"), mode: "side-table", target: "occupied", dryRun: false })).rejects.toThrow(
      /Sales Ünïcode\.occupied already exists with other contents \(1 rows; .* has 304\): drop it, or pass another target/,
    );
  });

  it("attaches: the rows are visible through the parent again; a second run reports `already restored`", async () => {
    const result = await restorePartition(ctx, { parent, partition: P("_p2025_01"), mode: "attach", dryRun: false });
    expect(result.status).toBe("restored");
    expect(result.target).toEqual(qualifiedName(SCHEMA, P("_p2025_01")));
    expect(result.statements).toEqual([
      `CREATE TABLE ${Q(P("_p2025_01"))} (LIKE ${Q(TABLE)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)`,
      `-- load 304 rows from ${location}/${janKeys.data} into ${Q(P("_p2025_01"))}`,
      // The parent has a default partition: writers wait instead of being routed to it and failing.
      `LOCK TABLE ${Q(TABLE)} IN SHARE ROW EXCLUSIVE MODE`,
      `ALTER TABLE ${Q(TABLE)} ATTACH PARTITION ${Q(P("_p2025_01"))} FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2025-02-01 00:00:00+00')`,
    ]);
    expect(await partitionNames(sql, SCHEMA, TABLE)).toContain(P("_p2025_01"));
    const viaParent = `(select * from ${Q(TABLE)} where "createdAt" >= '2025-01-01' and "createdAt" < '2025-02-01') p`;
    expect(await exceptAll("public.original_jan", viaParent)).toEqual([]);
    const [record] = await sql`select state from partkeeper.restore where id = ${result.restoreId}`;
    expect(record!.state).toBe("attached");

    const again = await restorePartition(ctx, { parent, partition: P("_p2025_01"), mode: "attach", dryRun: false });
    expect(again.status).toBe("already restored");
    expect(again.statements).toEqual([]);
  });

  it("re-archives an attach-restored partition at the next archive run, verifying against the same objects", async () => {
    const before = await listObjects(store.location, janKeys.directory);
    const manifestBefore = parseManifest(await store.getJson(janKeys.manifest), "before");
    const summary = await runJob(ctx, { job: "archive", dryRun: false });
    expect(summary.ok).toBe(true);
    const [outcome] = summary.parents[0]!.actions;
    expect(outcome!.status).toBe("applied");
    expect(outcome!.action.partition.name).toBe(P("_p2025_01"));
    expect(outcome!.archive).toMatchObject({ rows: 304, objectKey: janKeys.data, manifestKey: janKeys.manifest, finalState: "dropped" });
    expect(await listObjects(store.location, janKeys.directory)).toEqual(before);
    expect(parseManifest(await store.getJson(janKeys.manifest), "after")).toEqual(manifestBefore);
    expect(await partitionNames(sql, SCHEMA, TABLE)).not.toContain(P("_p2025_01"));
    const archives = await sql`select state from partkeeper.archive where partition_name = ${P("_p2025_01")} order by id`;
    expect(archives.map((r) => r.state)).toEqual(["dropped", "dropped"]);
  });

  it("names the default partition when rows of the range sit there, leaves the table detached, and finishes on the next run", async () => {
    await sql.unsafe(`insert into ${Q(TABLE)} ("createdAt", amount) values ('2025-02-15 00:00:00+00', 1)`);
    const error = await restorePartition(ctx, { parent, partition: P("_p2025_02"), mode: "attach", dryRun: false }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ArchiveError);
    expect((error as Error).message).toMatch(/rows of that range sit in the default partition Sales Ünïcode\.hej"hej Événements_default/);
    expect((error as Error).message).toMatch(/is loaded \(50 rows\) and left detached/);
    expect(await partitionNames(sql, SCHEMA, TABLE)).not.toContain(P("_p2025_02"));
    const [loaded] = await sql.unsafe(`select count(*)::int as n from ${Q(P("_p2025_02"))}`);
    expect(loaded!.n).toBe(50);

    await sql.unsafe(`delete from ${Q(P("_default"))}`);
    const resumed = await restorePartition(ctx, { parent, partition: P("_p2025_02"), mode: "attach", dryRun: false });
    expect(resumed.status).toBe("restored");
    expect(resumed.statements).toEqual([
      `LOCK TABLE ${Q(TABLE)} IN SHARE ROW EXCLUSIVE MODE`,
      `ALTER TABLE ${Q(TABLE)} ATTACH PARTITION ${Q(P("_p2025_02"))} FOR VALUES FROM ('2025-02-01 00:00:00+00') TO ('2025-03-01 00:00:00+00')`,
    ]);
    expect(await partitionNames(sql, SCHEMA, TABLE)).toContain(P("_p2025_02"));
    const records = await sql`select state from partkeeper.restore where partition_name = ${P("_p2025_02")} order by id`;
    expect(records.map((r) => r.state)).toEqual(["attached"]);
  });

  it("names the overlapping partition and leaves the loaded table detached", async () => {
    await sql.unsafe(`create table ${Q("manual march")} partition of ${Q(TABLE)} for values from ('2025-03-10 00:00:00+00') to ('2025-03-11 00:00:00+00')`);
    await expect(restorePartition(ctx, { parent, partition: P("_p2025_03"), mode: "attach", dryRun: false })).rejects.toThrow(
      /its range overlaps partition Sales Ünïcode\.manual march \(FOR VALUES FROM \('2025-03-10 00:00:00\+00'\) TO \('2025-03-11 00:00:00\+00'\)\)\. .* left detached/,
    );
    expect(await exists(P("_p2025_03"))).toBe(true);
    expect(await partitionNames(sql, SCHEMA, TABLE)).not.toContain(P("_p2025_03"));
  });

  it("takes the parent's lock in attach mode and says when another run holds it", async () => {
    const other = await sql.reserve();
    try {
      await other`select pg_advisory_lock(hashtextextended(${`partkeeper:${JSON.stringify([SCHEMA, TABLE])}`}, 0))`;
      await expect(restorePartition(ctx, { parent, partition: P("_p2025_03"), mode: "attach", dryRun: false })).rejects.toThrow(
        /another run holds the lock for Sales Ünïcode\.hej"hej Événements \(pid \d+/,
      );
    } finally {
      await other`select pg_advisory_unlock_all()`;
      other.release();
    }
  });

  it("fails clearly when there is no archive, creating nothing", async () => {
    const error = await restorePartition(ctx, { parent, partition: "nope_p1999_01", mode: "side-table", dryRun: false }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ArchiveError);
    const manifest = archiveKeys({ parent, partition: qualifiedName(SCHEMA, "nope_p1999_01") }).manifest;
    expect((error as Error).message).toBe(`no archive of Sales Ünïcode.nope_p1999_01 at ${location}/${manifest}: check the name, or list the prefix`);
    expect(await exists("nope_p1999_01_restored")).toBe(false);
  });

  it("checks each object's sha256 against the manifest before creating anything", async () => {
    const ghost = qualifiedName(SCHEMA, "ghost_p2025_01");
    const real = parseManifest(await store.getJson(janKeys.manifest), "real");
    const bogus = "0".repeat(64);
    const manifest = { ...real, partition: ghost, sha256: bogus, objects: real.objects.map((o) => ({ ...o, sha256: bogus })) };
    expect(await store.putJson(archiveKeys({ parent, partition: ghost }).manifest, manifest)).toBe("created");
    const error = await restorePartition(ctx, { parent, partition: ghost.name, mode: "attach", dryRun: false }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ArchiveError);
    const escaped = `${location}/${janKeys.data}`.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    expect((error as Error).message).toMatch(
      new RegExp(`^${escaped} does not match its manifest .*sha256 ${real.sha256}, the manifest says \\d+ bytes with sha256 ${bogus}; nothing was created`),
    );
    expect(await exists("ghost_p2025_01")).toBe(false);
    const records = await sql`select id from partkeeper.restore where partition_name = 'ghost_p2025_01'`;
    expect(records).toEqual([]);
  });

  it("resumes into the empty table an interrupted restore created (recorded `loading`)", async () => {
    await sql.unsafe(`create table ${Q("interrupted")} (like ${Q(TABLE)} including defaults including constraints)`);
    const [record] = await sql`
      insert into partkeeper.restore (parent_schema, parent_name, partition_schema, partition_name, mode, target_schema, target_name, manifest_key, rows, state)
      values (${SCHEMA}, ${TABLE}, ${SCHEMA}, ${P("_p2025_01")}, 'side-table', ${SCHEMA}, 'interrupted', ${janKeys.manifest}, 304, 'loading')
      returning id::float8 as id`;
    const result = await restorePartition(ctx, { parent, partition: P("_p2025_01"), mode: "side-table", target: "interrupted", dryRun: false });
    expect(result.status).toBe("restored");
    expect(result.restoreId).toBe(record!.id);
    expect(result.statements).toEqual([`-- load 304 rows from ${location}/${janKeys.data} into ${Q("interrupted")}`]);
    expect(await exceptAll("public.original_jan", Q("interrupted"))).toEqual([]);
    const [state] = await sql`select state from partkeeper.restore where id = ${record!.id}`;
    expect(state!.state).toBe("loaded");
  });

  it("dry run: plans a side-table restore without creating or recording anything", async () => {
    const [before] = await sql`select count(*)::int as n from partkeeper.restore`;
    const result = await restorePartition(ctx, { parent, partition: P("_p2025_01"), mode: "side-table", target: "planned only", dryRun: true });
    expect(result.status).toBe("planned");
    expect(result.restoreId).toBeNull();
    expect(result.statements).toEqual([
      `CREATE TABLE ${Q("planned only")} (LIKE ${Q(TABLE)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)`,
      `-- load 304 rows from ${location}/${janKeys.data} into ${Q("planned only")}`,
    ]);
    expect(await exists("planned only")).toBe(false);
    const [after] = await sql`select count(*)::int as n from partkeeper.restore`;
    expect(after!.n).toBe(before!.n);
  });

  it("validates options: a target in attach mode is refused; long default targets stay within 63 bytes", async () => {
    await expect(restorePartition(ctx, { parent, partition: P("_p2025_01"), mode: "attach", target: "x", dryRun: true })).rejects.toThrow(ConfigError);
    const long = qualifiedName("public", `${"é".repeat(26)}_p2025_01`); // 61 bytes
    const target = defaultRestoreTarget(long);
    expect(Buffer.byteLength(target.name)).toBeLessThanOrEqual(63);
    // The partition part is cut and a hash of the whole name keeps two long partitions apart.
    expect(target.name).toMatch(/^é+_[0-9a-f]{6}_restored$/);
    expect(defaultRestoreTarget(qualifiedName("public", `${"é".repeat(26)}_p2025_02`)).name).not.toBe(target.name);
  });

  it("CLI: restore --dry-run prints the SQL and changes nothing", async () => {
    const { code, stdout, stderr } = await runCli(
      ["restore", "--config", configFile, "--table", `${SCHEMA}.${TABLE}`, "--partition", P("_p2025_01"), "--mode", "attach", "--dry-run"],
      { DATABASE_URL: url },
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain(`would restore 304 rows of Sales Ünïcode.${P("_p2025_01")} from ${location}/${janKeys.manifest}`);
    expect(stdout).toContain(`CREATE TABLE ${Q(P("_p2025_01"))} (LIKE ${Q(TABLE)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS);`);
    expect(stdout).toContain(`-- load 304 rows from ${location}/${janKeys.data}`);
    expect(stdout).toContain(`ALTER TABLE ${Q(TABLE)} ATTACH PARTITION ${Q(P("_p2025_01"))} FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2025-02-01 00:00:00+00');`);
    expect(await exists(P("_p2025_01"))).toBe(false);

    const bad = await runCli(["restore", "--config", configFile, "--table", `${SCHEMA}.${TABLE}`, "--partition", P("_p2025_01"), "--mode", "merge"], {
      DATABASE_URL: url,
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/merge/);
  });

  describe("Lambda restore handler", () => {
    const setEnvironment = useLambdaEnvironment();
    const configure = () => setEnvironment(url, config);

    it("restores on a valid event", async () => {
      configure();
      const { result, error } = await invokeLambda({
        job: "restore",
        parent: { schema: SCHEMA, table: TABLE },
        partition: P("_p2025_01"),
        target: "from lambda",
      });
      expect(error).toBeUndefined();
      expect(result).toMatchObject({ ok: true, status: "restored", mode: "side-table", rows: 304, target: { schema: SCHEMA, name: "from lambda" } });
      expect(await exceptAll("public.original_jan", Q("from lambda"))).toEqual([]);
    });

    it("fails a bad event before any SQL, naming the field", async () => {
      configure();
      const { error } = await invokeLambda({ job: "restore", parent: { schema: SCHEMA, table: TABLE }, partition: P("_p2025_01"), mode: "merge" });
      expect(error?.message).toMatch(/mode: must be one of attach, side-table/);
    });
  });

  it("builds a side table from the manifest's types when the parent is gone; attach then refuses clearly", async () => {
    await sql.unsafe(`drop table ${Q(TABLE)} cascade`);
    const result = await restorePartition(ctx, { parent, partition: P("_p2025_01"), mode: "side-table", target: "no parent", dryRun: false });
    expect(result).toMatchObject({ status: "restored", columnsFrom: "manifest", rows: 304 });
    expect(result.statements[0]).toBe(
      `CREATE TABLE ${Q("no parent")} ("id" bigint, "createdAt" timestamp with time zone, "u" uuid, "amount" numeric(12,2), "payload" jsonb, "note ""q""" text, "blob" bytea)`,
    );
    expect(await exceptAll("public.original_jan", Q("no parent"))).toEqual([]);
    await expect(restorePartition(ctx, { parent, partition: P("_p2025_01"), mode: "attach", dryRun: false })).rejects.toThrow(
      /cannot attach .* does not exist; restore it with mode side-table instead/,
    );
  });
});

describe("restore a parent with a stored generated column (real PostgreSQL + S3)", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();
  const GEN = "gen Événements";
  const genParent = qualifiedName("public", GEN);
  const G = (name: string) => `"public"."${name}"`;
  const GEN_COLUMNS = `id, "createdAt", x, g, note`;
  await sql.unsafe(`
    create table ${G(GEN)} (
      id bigint not null,
      "createdAt" timestamptz not null,
      x int,
      g int generated always as (x * 2) stored,
      note text default 'n'
    ) partition by range ("createdAt");
    create table ${G(`${GEN}_p2025_01`)} partition of ${G(GEN)} for values from ('2025-01-01 00:00:00+00') to ('2025-02-01 00:00:00+00');
    create table ${G(`${GEN}_p2025_02`)} partition of ${G(GEN)} for values from ('2025-02-01 00:00:00+00') to ('2025-03-01 00:00:00+00');
    create table ${G(`${GEN}_p2025_03`)} partition of ${G(GEN)} for values from ('2025-03-01 00:00:00+00') to ('2025-04-01 00:00:00+00');
    create table ${G(`${GEN}_p2026_11`)} partition of ${G(GEN)} for values from ('2026-11-01 00:00:00+00') to ('2026-12-01 00:00:00+00');
    insert into ${G(GEN)} (id, "createdAt", x, note)
      select g, timestamptz '2025-01-01 00:00:00+00' + g * interval '5 hours 7 minutes', case when g % 11 = 0 then null else g - 100 end, 'row ' || g
      from generate_series(1, 400) g;
    insert into ${G(GEN)} (id, "createdAt", x) values (1000, '2026-11-02 00:00:00+00', 1);
    -- The originals, taken before archiving.
    create table public.gen_original as select * from ${G(GEN)} where "createdAt" < '2025-04-01';
  `);
  const config = {
    archive: { location },
    tables: [{ schema: "public", table: GEN, strategy: "range-time" as const, interval: "month" as const, retention: "6 months", premake: 1 }],
  };
  const ctx = await testJobContext(url, config);
  const month = (m: number) =>
    `(select * from public.gen_original where "createdAt" >= '2025-0${m}-01' and "createdAt" < '2025-0${m + 1}-01') o`;
  const exceptAll = async (a: string, b: string, columns = GEN_COLUMNS) =>
    sql.unsafe(`(select ${columns} from ${a} except all select ${columns} from ${b}) union all (select ${columns} from ${b} except all select ${columns} from ${a})`);
  const generatedColumns = async (name: string) => {
    const rows = await sql`select attname from pg_attribute where attrelid = to_regclass(${G(name)}) and attgenerated = 's' order by attnum`;
    return rows.map((r) => r.attname as string);
  };
  const LIKE = "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS";

  it("archives the expired partitions (generated values are in the archive)", async () => {
    const summary = await runJob(ctx, { job: "archive", dryRun: false });
    expect(summary.ok).toBe(true);
    expect(summary.parents[0]!.actions.map((a) => [a.action.partition.name, a.status])).toEqual([
      [`${GEN}_p2025_01`, "applied"],
      [`${GEN}_p2025_02`, "applied"],
      [`${GEN}_p2025_03`, "applied"],
    ]);
  });

  it("attach mode: the target is created INCLUDING GENERATED, Postgres recomputes g, and ATTACH succeeds", async () => {
    const result = await restorePartition(ctx, { parent: genParent, partition: `${GEN}_p2025_01`, mode: "attach", dryRun: false });
    expect(result.status).toBe("restored");
    expect(result.statements[0]).toBe(`CREATE TABLE ${G(`${GEN}_p2025_01`)} (LIKE ${G(GEN)} ${LIKE})`);
    expect(await partitionNames(sql, "public", GEN)).toContain(`${GEN}_p2025_01`);
    expect(await generatedColumns(`${GEN}_p2025_01`)).toEqual(["g"]);
    const viaParent = `(select * from ${G(GEN)} where "createdAt" >= '2025-01-01' and "createdAt" < '2025-02-01') p`;
    expect(await exceptAll(month(1), viaParent)).toEqual([]);
    const [count] = await sql.unsafe(`select count(*)::int as n from ${viaParent}`);
    expect(count!.n).toBeGreaterThan(100);
    const again = await restorePartition(ctx, { parent: genParent, partition: `${GEN}_p2025_01`, mode: "attach", dryRun: false });
    expect(again.status).toBe("already restored");
  });

  it("side-table mode: g is a generated column of the side table and every value comes back identical", async () => {
    const result = await restorePartition(ctx, { parent: genParent, partition: `${GEN}_p2025_02`, mode: "side-table", dryRun: false });
    expect(result).toMatchObject({ status: "restored", columnsFrom: "parent" });
    expect(result.statements[0]).toBe(`CREATE TABLE ${G(`${GEN}_p2025_02_restored`)} (LIKE ${G(GEN)} ${LIKE})`);
    expect(await generatedColumns(`${GEN}_p2025_02_restored`)).toEqual(["g"]);
    expect(await exceptAll(month(2), G(`${GEN}_p2025_02_restored`))).toEqual([]);
  });

  it("checks g against the archived values of every object when an archive has several (summed up object by object, each deleted once loaded)", async () => {
    const manifestOf = async (m: number) =>
      parseManifest(await ctx.store!.getJson(archiveKeys({ parent: genParent, partition: qualifiedName("public", `${GEN}_p2025_0${m}`) }).manifest), `m${m}`);
    const [jan, feb] = [await manifestOf(1), await manifestOf(2)];
    const both = qualifiedName("public", "gen_two_parts");
    const { content: _content, ...rest } = jan;
    const manifest = { ...rest, partition: both, rows: jan.rows + feb.rows, bytes: jan.bytes + feb.bytes, keyMax: feb.keyMax, objects: [...jan.objects, ...feb.objects] };
    expect(await ctx.store!.putJson(archiveKeys({ parent: genParent, partition: both }).manifest, manifest)).toBe("created");
    const result = await restorePartition(ctx, { parent: genParent, partition: both.name, mode: "side-table", dryRun: false });
    expect(result.status).toBe("restored");
    expect(result.statements.filter((s) => s.startsWith("-- load"))).toHaveLength(2);
    const twoMonths = `(select * from public.gen_original where "createdAt" < '2025-03-01') o`;
    expect(await exceptAll(twoMonths, G("gen_two_parts_restored"))).toEqual([]);
  });

  it("a table loaded but left detached by an older restore (g a plain column) gets an exact next step, and the rerun after it finishes", async () => {
    // What restores before INCLUDING GENERATED left behind: a plain copy of the archive that ATTACH refuses.
    const target = `${GEN}_p2025_03`;
    const keys = archiveKeys({ parent: genParent, partition: qualifiedName("public", target) });
    await sql.unsafe(`
      create table ${G(target)} (like ${G(GEN)} including defaults including constraints);
      insert into ${G(target)} select * from ${month(3)};`);
    await sql`
      insert into partkeeper.restore (parent_schema, parent_name, partition_schema, partition_name, mode, target_schema, target_name, manifest_key, rows, state)
      values ('public', ${GEN}, 'public', ${target}, 'attach', 'public', ${target}, ${keys.manifest}, (select count(*) from ${sql.unsafe(month(3))}), 'loaded')`;
    const error = await restorePartition(ctx, { parent: genParent, partition: target, mode: "attach", dryRun: false }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ArchiveError);
    expect((error as Error).message).toContain(`public.${target} exists, but column g is generated in public.${GEN} and a plain column here`);
    expect((error as Error).message).toContain(`DROP TABLE ${G(target)}`);
    expect(await partitionNames(sql, "public", GEN)).not.toContain(target);

    await sql.unsafe(`drop table ${G(target)}`);
    const result = await restorePartition(ctx, { parent: genParent, partition: target, mode: "attach", dryRun: false });
    expect(result.status).toBe("restored");
    expect(await partitionNames(sql, "public", GEN)).toContain(target);
    expect(await exceptAll(month(3), G(target))).toEqual([]);
    const records = await sql`select state from partkeeper.restore where partition_name = ${target} order by id`;
    expect(records.map((r) => r.state)).toEqual(["attached"]);
  });

  it("refuses, and drops the table again, when Postgres computes a generated column differently from the archive (expression changed)", async () => {
    await sql.unsafe(`alter table ${G(GEN)} drop column g; alter table ${G(GEN)} add column g int generated always as (x * 3) stored`);
    const error = await restorePartition(ctx, { parent: genParent, partition: `${GEN}_p2025_02`, mode: "side-table", target: "gen changed", dryRun: false }).catch(
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(ArchiveError);
    expect((error as Error).message).toMatch(
      /^public\.gen changed was loaded, but Postgres computed its generated columns with other values than the archive .* \(g: archived \d+ non-NULL, min -?\d+, max \d+; computed \d+ non-NULL, min -?\d+, max \d+\): the generation expression in public\.gen Événements changed since the archive\. public\.gen changed was dropped again/,
    );
    const [exists] = await sql`select to_regclass(${G("gen changed")}) is not null as present`;
    expect(exists!.present).toBe(false);
    await sql.unsafe(`alter table ${G(GEN)} drop column g; alter table ${G(GEN)} add column g int generated always as (x * 2) stored`);
  });

  it("attach is refused, naming the column and changing nothing, when the parent gained a column since the archive; side-table mode still works", async () => {
    await sql.unsafe(`alter table ${G(GEN)} add column extra text`);
    const [before] = await sql`select count(*)::int as n from partkeeper.restore`;
    const target = `${GEN}_p2025_02`;
    await expect(restorePartition(ctx, { parent: genParent, partition: target, mode: "attach", dryRun: false })).rejects.toThrow(
      `cannot attach public.${target} to public.${GEN}: the parent's columns changed since the archive (extra text (added since the archive)); restore it with mode side-table instead`,
    );
    expect(await generatedColumns(target)).toEqual([]);
    const [exists] = await sql`select to_regclass(${G(target)}) is not null as present`;
    expect(exists!.present).toBe(false);
    const [after] = await sql`select count(*)::int as n from partkeeper.restore`;
    expect(after!.n).toBe(before!.n);

    const side = await restorePartition(ctx, { parent: genParent, partition: target, mode: "side-table", target: "gen gained", dryRun: false });
    expect(side).toMatchObject({ status: "restored", columnsFrom: "manifest" });
    expect(await exceptAll(month(2), G("gen gained"))).toEqual([]);
  });
});
