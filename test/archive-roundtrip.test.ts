import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archiveKeys } from "../packages/core/src/archive/archive-keys.ts";
import { exportToParquet } from "../packages/core/src/parquet/export-parquet.ts";
import { loadParquet } from "../packages/core/src/parquet/load-parquet.ts";
import { relationColumnDigests, summarizeRelation, summarizeRelationContent } from "../packages/core/src/parquet/relation-summary.ts";
import { readParquetColumnDigests, readParquetColumns, readParquetContent, readParquetSchema, sha256File } from "../packages/core/src/parquet/read-parquet.ts";
import { ArchiveError } from "../packages/core/src/errors.ts";
import { qualifiedName } from "../packages/core/src/identifier.ts";
import type { S3Store } from "../packages/core/src/store/s3-store.ts";
import { createTestDatabase, relationColumns, testS3Store, useTestS3 } from "./helpers.ts";

const SCHEMA = 'arch "s"';
const source = qualifiedName(SCHEMA, 'Événements "x"');
const target = qualifiedName(SCHEMA, 'Événements "x" restored');

describe("archive round trip: Postgres -> Parquet -> S3 -> Parquet -> Postgres", async () => {
  const { url, sql } = await createTestDatabase();
  const openCopyClient = () => postgres(url, { max: 1, onnotice: () => {} });
  let workDir: string;
  let store: S3Store;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), "pk-roundtrip-"));
    store = testS3Store(useTestS3());
    await sql.unsafe(`
      create schema "arch ""s""";
      create type "arch ""s""".mood as enum ('sad', 'ok', 'happy, "very"');
      create table "arch ""s"""."Événements ""x""" (
        id bigint not null,
        i integer,
        s smallint,
        "amount" numeric(12,2),
        "big" numeric,
        r real,
        d double precision,
        b boolean,
        u uuid,
        "createdAt" timestamp with time zone,
        ts timestamp without time zone,
        dt date,
        tm time without time zone,
        "hej""hej" text,
        vc character varying(20),
        ch character(4),
        j json,
        jb jsonb,
        by bytea,
        ia integer[],
        ta text[],
        m "arch ""s""".mood,
        iv interval,
        ip inet
      );
      insert into "arch ""s"""."Événements ""x""" values
        (1, 2147483647, -32768, 1234567890.12, 1234567890123456789012345678901234567890, 0.1, 0.1, true,
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-01-15 10:20:30.123456+00', '2024-01-15 10:20:30.654321', '2024-01-15', '23:59:59.999999',
         'comma, "quote", new
line, unicode é ☃ 𝄞', 'varchar', 'ab', '{"a": 1,  "a": 2, "s": "é\\u00e9"}', '{"k": [1, 2.50, null], "u": "☃"}',
         '\\x00ff00', '{1,NULL,3}', '{"a,b",NULL,"\\"q\\"","", "NULL"}', 'happy, "very"', '1 year 2 mons -3 days 04:05:06.789', '192.168.0.1/24'),
        (2, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null),
        (3, -2147483648, 32767, -0.01, -0.000000000000000000000000000000000000001, 'Infinity', 1e-300, false,
         '00000000-0000-0000-0000-000000000000', 'infinity', '-infinity', '1970-01-01', '24:00:00',
         '', '', '    ', '[]', '{}', '\\x', '{}', '{}', 'sad', '-1 days', '::1'),
        (4, 0, 0, 0, 'NaN', '-Infinity', 'NaN', true,
         'ffffffff-ffff-ffff-ffff-ffffffffffff', '2000-02-29 23:59:59.999999-05', '1999-12-31 23:59:59', '0001-01-01', '00:00:00',
         E'\\\\.', E'a\\n\\\\.\\nb', 'x', '"just a string"', '"☃"', '\\x5c2e0a', '{{1,2},{3,4}}', '{"é"}', 'ok', '00:00:00.000001', '10.0.0.0/8'),
        (5, 5, 5, 5.5, 'Infinity', '-0', '-0', false,
         'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', '2024-01-01 00:00:00+00', '2024-01-01 00:00:00', '2024-01-01', '12:00:00',
         E'tab\\there\\r\\ncrlf', 'NULL', 'null', 'null', 'null', '\\x0d0a', '{NULL}', '{NULL,""}', 'sad', '1 mon', '2001:db8::/32');
      insert into "arch ""s"""."Événements ""x"""
        select g, g, (g % 30000)::smallint, g * 1.25, (g::numeric ^ 3) / 7, g / 3.0, g / 7.0, g % 2 = 0,
               md5(g::text)::uuid, timestamptz '2024-02-01 00:00:00+00' + g * interval '1.000001 second',
               timestamp '2024-02-01' + g * interval '1 microsecond', date '2024-02-01' + g % 28, time '00:00' + g * interval '1 second',
               repeat('x', g % 50) || g, g::text, 'c', json_build_object('g', g), jsonb_build_object('g', g, 'n', null),
               decode(md5(g::text), 'hex'), array[g, null], array[g::text, 'q"q'], 'ok', g * interval '1 minute', '10.1.0.0'::inet + g
        from generate_series(10, 5009) g;
      -- A 4 MB value: above DuckDB's default 2 MB max_line_size for CSV.
      insert into "arch ""s"""."Événements ""x""" (id, "hej""hej", jb) values (6, repeat('é', 2000000), jsonb_build_object('big', repeat('z', 3000000)));
      create table "arch ""s"""."Événements ""x"" restored" (like "arch ""s"""."Événements ""x""");
    `);
  });

  afterAll(async () => {
    store?.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it("keeps every value and type, through S3", { timeout: 60_000 }, async () => {
    const columns = await relationColumns(sql, source);
    const exported = await exportToParquet({ openCopyClient, relation: source, columns, workDir });
    expect(exported.rows).toBe(5006);
    expect(exported.sha256).toBe(await sha256File(exported.file));
    expect(exported.columns.map((c) => [c.name, c.parquetType])).toEqual([
      ["id", "BIGINT"],
      ["i", "INTEGER"],
      ["s", "SMALLINT"],
      ["amount", "DECIMAL(12,2)"],
      ["big", "VARCHAR"],
      ["r", "FLOAT"],
      ["d", "DOUBLE"],
      ["b", "BOOLEAN"],
      ["u", "UUID"],
      ["createdAt", "TIMESTAMPTZ"],
      ["ts", "TIMESTAMP"],
      ["dt", "DATE"],
      ["tm", "TIME"],
      ['hej"hej', "VARCHAR"],
      ["vc", "VARCHAR"],
      ["ch", "VARCHAR"],
      ["j", "JSON"],
      ["jb", "JSON"],
      ["by", "BLOB"],
      ["ia", "VARCHAR"],
      ["ta", "VARCHAR"],
      ["m", "VARCHAR"],
      ["iv", "VARCHAR"],
      ["ip", "VARCHAR"],
    ]);

    const keys = archiveKeys({ parent: source, partition: source });
    expect(keys.data).toBe("arch%20%22s%22/%C3%89v%C3%A9nements%20%22x%22/arch%20%22s%22/%C3%89v%C3%A9nements%20%22x%22/data.parquet");
    const put = { contentType: "application/vnd.apache.parquet", metadata: { sha256: exported.sha256 } };
    expect(await store.putFile(keys.data, exported.file, put)).toBe("created");
    expect(await store.putFile(keys.data, exported.file, put)).toBe("exists");
    expect(await store.head(keys.data)).toEqual({ bytes: exported.bytes, metadata: { sha256: exported.sha256 } });

    const downloaded = path.join(workDir, "downloaded.parquet");
    expect((await store.getToFile(keys.data, downloaded)).bytes).toBe(exported.bytes);
    expect(await sha256File(downloaded)).toBe(exported.sha256);

    // Logical types in the file itself, as other Parquet readers see them.
    const schema = new Map((await readParquetSchema(downloaded)).map((e) => [e.name, e]));
    expect(schema.get("u")!.logicalType).toMatch(/UUID/i);
    expect(schema.get("createdAt")!.logicalType).toMatch(/isAdjustedToUTC=(1|true)/);
    expect(schema.get("createdAt")!.logicalType).toMatch(/MICROS=MicroSeconds/);
    expect(schema.get("ts")!.logicalType).toMatch(/isAdjustedToUTC=(0|false)/);
    expect(schema.get("amount")!.logicalType).toMatch(/DecimalType\(scale=2, precision=12\)/);
    expect(schema.get("j")!.logicalType).toMatch(/^JsonType/);
    expect(schema.get("jb")!.logicalType).toMatch(/^JsonType/);
    expect((await readParquetColumns(downloaded)).map((c) => c.duckdbType)).toContain("TIMESTAMP WITH TIME ZONE");

    // Verification figures agree between Postgres and the Parquet file.
    for (const key of columns.filter((c) => ["id", "createdAt", "ts", "dt", "hej\"hej", "u", "amount", "b", "m", "by"].includes(c.name))) {
      const fromTable = await summarizeRelation(sql, source, key);
      const { rows, keyMin, keyMax } = await readParquetContent(downloaded, exported.columns, key.name, workDir);
      expect({ rows, keyMin, keyMax }, key.name).toEqual(fromTable);
    }
    // The content summary verify compares: the same in both engines for every column type, and a
    // changed value changes it.
    const tableContent = await summarizeRelationContent(sql, source, columns, null);
    const fileContent = await readParquetContent(downloaded, exported.columns, null, workDir);
    expect(fileContent.content).toEqual(tableContent.content);
    expect(tableContent.content.columns.find((c) => c.name === "ch")!.nulls).toBeGreaterThan(0);
    const altered = { schema: source.schema, name: "altered copy" };
    await sql.unsafe(`create table "arch ""s"""."altered copy" as table "arch ""s"""."Événements ""x"""; update "arch ""s"""."altered copy" set d = 1.0000000000000002e-300 where id = 3`);
    expect((await summarizeRelationContent(sql, altered, columns, null)).content.digest).not.toBe(fileContent.content.digest);
    // Per-column digests (run only after a mismatch) name exactly the altered column.
    const [tableDigests, alteredDigests, fileDigests] = await Promise.all([
      relationColumnDigests(sql, source, columns),
      relationColumnDigests(sql, altered, columns),
      readParquetColumnDigests(downloaded, exported.columns, workDir),
    ]);
    expect(fileDigests).toEqual(tableDigests);
    expect(columns.filter((_, i) => alteredDigests[i] !== fileDigests[i]).map((c) => c.name)).toEqual(["d"]);

    const rowsOnly = await summarizeRelation(sql, source, null);
    expect(rowsOnly).toEqual({ rows: 5006, keyMin: null, keyMax: null });
    expect((await summarizeRelation(sql, source, columns.find((c) => c.name === "dt")!)).keyMin).toBe("0001-01-01");

    const loaded = await loadParquet({ openCopyClient, file: downloaded, target, columns: exported.columns, workDir });
    expect(loaded.rows).toBe(5006);

    const a = `"arch ""s"""."Événements ""x"""`;
    const b = `"arch ""s"""."Événements ""x"" restored"`;
    const list = columns.map((c) => `"${c.name.replaceAll('"', '""')}"${c.type === "json" ? "::text" : ""}`).join(", ");
    for (const [x, y] of [
      [a, b],
      [b, a],
    ]) {
      expect(await sql.unsafe(`select ${list} from ${x} except all select ${list} from ${y}`)).toEqual([]);
      // Text forms too: catches -0 vs 0, numeric scale, json whitespace, char padding.
      expect(await sql.unsafe(`select t::text from ${x} t except all select t::text from ${y} t`)).toEqual([]);
    }
    const [sample] = await sql.unsafe(`select r::text, d::text, "hej""hej" as h, j::text as j, encode(by, 'hex') as by from ${b} where id = 1`);
    expect(sample).toEqual({
      r: "0.1",
      d: "0.1",
      h: 'comma, "quote", new\nline, unicode é ☃ 𝄞',
      j: '{"a": 1,  "a": 2, "s": "é\\u00e9"}',
      by: "00ff00",
    });
  });

  it("keeps NULL and empty string apart", async () => {
    const [row] = await sql.unsafe(
      `select count(*) filter (where "hej""hej" = '') as empty, count(*) filter (where "hej""hej" is null) as nulls,
              count(*) filter (where vc = 'NULL') as null_word, count(*) filter (where by = ''::bytea) as empty_bytes
       from "arch ""s"""."Événements ""x"" restored"`,
    );
    expect(row).toEqual({ empty: "1", nulls: "1", null_word: "1", empty_bytes: "1" });
  });

  it("fails with an ArchiveError naming the relation when it does not exist", async () => {
    const missing = qualifiedName(SCHEMA, "no such table");
    await expect(
      exportToParquet({ openCopyClient, relation: missing, columns: [{ name: "id", type: "bigint" }], workDir }),
    ).rejects.toThrow(ArchiveError);
    await expect(
      exportToParquet({ openCopyClient, relation: missing, columns: [{ name: "id", type: "bigint" }], workDir }),
    ).rejects.toThrow(/arch "s"\.no such table/);
  });

  it("refuses a COPY client that is not max: 1", async () => {
    const columns = await relationColumns(sql, source);
    await expect(
      exportToParquet({ openCopyClient: () => postgres(url, { max: 2 }), relation: source, columns, workDir }),
    ).rejects.toThrow(/max: 1/);
  });

  it("refuses to load a file whose columns do not match the manifest", async () => {
    const columns = await relationColumns(sql, source);
    const exported = await exportToParquet({ openCopyClient, relation: source, columns, workDir, fileName: "again.parquet" });
    const wrong = exported.columns.map((c, i) => (i === 3 ? { ...c, parquetType: "DOUBLE" } : c));
    await expect(loadParquet({ openCopyClient, file: exported.file, target, columns: wrong, workDir })).rejects.toThrow(
      /does not match its manifest/,
    );
  });
});
