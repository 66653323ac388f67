import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createClient, InsufficientPrivilegeError } from "@partkeeper/core";
import { migrate } from "../packages/core/src/db/migrate.ts";
import { sql as init } from "../packages/core/src/db/migrations/0001-init.ts";
import { runCli } from "./doors.ts";
import { createTestDatabase } from "./helpers.ts";

describe("partkeeper's own schema", async () => {
  const { url, sql } = await createTestDatabase();

  it("is created once, concurrently safe, and upgrades are idempotent", async () => {
    await Promise.all([migrate(sql), migrate(sql), migrate(sql)]);
    await migrate(sql);
    const versions = await sql`select version from partkeeper.migration order by version`;
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("needs no CREATE privilege once it is current", async () => {
    await sql.unsafe(`
      create role pk_limited_${process.pid} login password 'limited';
      revoke create on database "${new URL(url).pathname.slice(1)}" from public;
      grant usage on schema partkeeper to pk_limited_${process.pid};
      grant select on partkeeper.migration to pk_limited_${process.pid};
    `);
    const limitedUrl = new URL(url);
    limitedUrl.username = `pk_limited_${process.pid}`;
    limitedUrl.password = "limited";
    const limited = createClient(limitedUrl.toString(), { max: 1 });
    try {
      await expect(migrate(limited)).resolves.toBeUndefined();
      await expect(limited`create schema should_fail`).rejects.toThrow(/permission denied/);
    } finally {
      await limited.end();
      await sql.unsafe(`drop owned by pk_limited_${process.pid}; drop role pk_limited_${process.pid}`);
    }
  });
});

describe("partkeeper's own schema, for a role without CREATE", async () => {
  const { url, sql } = await createTestDatabase();
  const database = new URL(url).pathname.slice(1);
  const role = `pk_first_${process.pid}`;
  await sql.unsafe(`
    create role ${role} login password 'first';
    revoke create on database "${database}" from public;
    create table events (id bigint not null, at date not null) partition by range (at);
  `);
  afterAll(() => sql.unsafe(`drop owned by ${role}; drop role ${role}`));
  const limitedUrl = new URL(url);
  limitedUrl.username = role;
  limitedUrl.password = "first";
  const dir = await mkdtemp(path.join(os.tmpdir(), "partkeeper-migrate-"));
  const config = path.join(dir, "partkeeper.config.json");
  await writeFile(config, JSON.stringify({ tables: [{ table: "events", strategy: "range-time", interval: "month", defaultPartition: false }] }));

  it("is told, on the first run, that partkeeper was creating its schema and which grant it needs", async () => {
    const { code, stdout, stderr } = await runCli(["run", "maintain", "--config", config], { DATABASE_URL: limitedUrl.toString() });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      `partkeeper: partkeeper was creating its own schema partkeeper in database ${database} (first run there) and role ${role} may not ` +
        `(42501 insufficient_privilege: permission denied for database ${database}): run GRANT CREATE ON DATABASE "${database}" TO "${role}", ` +
        "or have a role with that privilege (e.g. the database owner) run partkeeper once; later runs need no CREATE privilege\n",
    );
    const [schema] = await sql`select to_regnamespace('partkeeper') as oid`;
    expect(schema!.oid).toBeNull();
  });

  it("is told, on an upgrade, who can run it; the upgrade itself needs no CREATE on the database", async () => {
    // The schema as the first release left it: only migration 1 applied, owned by another role.
    await sql.begin(async (tx) => {
      await tx`create schema partkeeper`;
      await tx`create table partkeeper.migration (version int primary key, applied_at timestamptz not null default now())`;
      await tx.unsafe(init);
      await tx`insert into partkeeper.migration (version) values (1)`;
    });
    await sql.unsafe(`grant usage on schema partkeeper to ${role}; grant select on partkeeper.migration to ${role}`);
    const limited = createClient(limitedUrl.toString(), { max: 1 });
    try {
      const error = await migrate(limited).catch((e: Error) => e);
      expect(error).toBeInstanceOf(InsufficientPrivilegeError);
      // "for schema", not "for database": an upgrade does not run CREATE SCHEMA.
      expect((error as Error).message).toMatch(
        new RegExp(
          `^partkeeper was upgrading its own schema partkeeper in database ${database} from version 1 to \\d+ and role ${role} may not ` +
            `\\(42501 insufficient_privilege: permission denied for schema partkeeper\\): have the owner of schema partkeeper run partkeeper once ` +
            `with this version, or run GRANT CREATE ON SCHEMA partkeeper TO "${role}"$`,
        ),
      );
      expect((await sql`select version from partkeeper.migration`).map((r) => r.version)).toEqual([1]);
    } finally {
      await limited.end();
    }
  });
});
