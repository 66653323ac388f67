import { randomUUID } from "node:crypto";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import postgres from "postgres";
import { afterAll, inject } from "vitest";
import { parseArchiveLocation } from "../packages/core/src/store/archive-location.ts";
import { createS3Store, s3OptionsFromEnvironment, type S3Store, type S3StoreOptions } from "../packages/core/src/store/s3-store.ts";

export const TEST_BUCKET = "partkeeper-test";

export interface TestDatabase {
  /** Connection URL of a database created for this test file only. */
  readonly url: string;
  /** A postgres.js client on it (closed after the file). */
  readonly sql: postgres.Sql;
}

/**
 * Creates a fresh database for the calling test file and drops it after the file's tests
 * (STYLE.md rule 15: per-file isolation on a real server).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject("databaseUrl");
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  const name = `pk_test_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await admin`create database ${admin(name)}`;
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { onnotice: () => {} });
  afterAll(async () => {
    await sql.end({ timeout: 5 });
    await admin`drop database if exists ${admin(name)} with (force)`;
    await admin.end({ timeout: 5 });
  });
  return { url: url.toString(), sql };
}

/**
 * Points the AWS SDK at the test S3 server through its standard environment, as a user would.
 * Returns a unique `s3://bucket/prefix` archive location for the calling file.
 */
export function useTestS3(): string {
  process.env.AWS_ENDPOINT_URL_S3 = inject("s3Endpoint");
  process.env.AWS_ACCESS_KEY_ID = "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
  process.env.AWS_REGION = "us-east-1";
  return `s3://${TEST_BUCKET}/${randomUUID().slice(0, 8)}`;
}

/** Columns of `relation` as the catalog reads them: `format_type(atttypid, atttypmod)` in attnum order. */
export async function relationColumns(sql: postgres.Sql, relation: { schema: string; name: string }): Promise<Array<{ name: string; type: string }>> {
  const rows = await sql<{ name: string; type: string }[]>`
    select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${relation.schema} and c.relname = ${relation.name} and a.attnum > 0 and not a.attisdropped
    order by a.attnum`;
  return rows.map((r) => ({ name: r.name, type: r.type }));
}

/** An S3 store over `location` configured from this process's environment, as a door configures it. */
export function testS3Store(location: string, options: S3StoreOptions = {}): S3Store {
  return createS3Store(parseArchiveLocation(location), { ...s3OptionsFromEnvironment(process.env), ...options });
}

/**
 * Every object whose key starts with `prefix` under the archive location `location` (`s3://bucket/prefix`,
 * e.g. a store's `location`): keys relative to the location's prefix, in key order, all pages. Read with
 * ListObjectsV2 through this process's S3 environment; production never lists, only tests look.
 */
export async function listObjects(location: string, prefix: string): Promise<Array<{ key: string; bytes: number }>> {
  const { bucket, prefix: base } = parseArchiveLocation(location);
  const { endpoint, region } = s3OptionsFromEnvironment(process.env);
  const client = new S3Client({ region: region ?? "us-east-1", ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }) });
  const objects: Array<{ key: string; bytes: number }> = [];
  try {
    let ContinuationToken: string | undefined;
    do {
      const out = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: base === "" ? prefix : `${base}/${prefix}`, ContinuationToken }),
      );
      for (const o of out.Contents ?? []) {
        if (o.Key !== undefined) objects.push({ key: base === "" ? o.Key : o.Key.slice(base.length + 1), bytes: o.Size ?? 0 });
      }
      ContinuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (ContinuationToken !== undefined);
  } finally {
    client.destroy();
  }
  return objects;
}

/**
 * Polls `probe` until it returns a value that is not null (at most `timeoutMs`), then returns it; null
 * when it never does. For cumulative statistics (pg_stat_*), which PostgreSQL before 15 reports through
 * its statistics collector about half a second late.
 */
export async function eventually<T>(probe: () => Promise<T | null>, timeoutMs = 3000): Promise<T | null> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null || performance.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Rows of table `a` (a name, quoted here) not in `b` and the other way round (EXCEPT ALL both ways): 0 when identical. */
export async function differingRows(sql: postgres.Sql, a: string, b: string): Promise<number> {
  const [row] = await sql.unsafe(`select count(*)::int as n from ((select * from "${a}" except all select * from "${b}") union all (select * from "${b}" except all select * from "${a}")) d`);
  return (row as unknown as { n: number }).n;
}
