import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig, runMigrations } from "@partkeeper/core";
import { createTestDatabase } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";
import { AUDIT_LOG_POLICY, auditLogConfig, createAuditLog, MIGRATION_ID, migrationState, partkeeperTriggers, relkind, tableDifference } from "./migrate-fixtures.ts";

/**
 * Tables a partition-table migration cannot convert are refused before anything is created, with a
 * message naming the table, the problem and the next step: no copy, no capture trigger, no record.
 */

const CASES = [
  {
    table: "no_key",
    ddl: "create table no_key (id bigint not null, created_at timestamptz not null)",
    message: "public.no_key has no primary key: the backfill walks the table in primary-key order and capture replays by it; add one (ALTER TABLE ... ADD PRIMARY KEY) first",
  },
  {
    table: "unique_email",
    ddl: "create table unique_email (id bigint primary key, created_at timestamptz not null, email text not null unique)",
    message:
      "public.unique_email has unique constraint unique_email_email_key (email) that cannot include the partition key created_at: " +
      "Postgres enforces uniqueness on a partitioned table only over column sets that include the partition key",
  },
  {
    table: "null_keys",
    ddl: `create table null_keys (id bigint primary key, created_at timestamptz);
          insert into null_keys values (1, now()), (2, null), (3, null)`,
    message: "public.null_keys has 2 rows with NULL created_at: a partition key of the copy's primary key cannot be NULL; fill them in first",
  },
  {
    table: "already_partitioned",
    ddl: "create table already_partitioned (id bigint not null, created_at timestamptz not null, primary key (id, created_at)) partition by range (created_at)",
    message: "public.already_partitioned is already partitioned: nothing to migrate; remove the migration and let the policy in tables manage it",
  },
  {
    table: "referenced",
    ddl: `create table referenced (id bigint primary key, created_at timestamptz not null);
          create table referencing (id bigint primary key, referenced_id bigint references referenced)`,
    message:
      "public.referenced is referenced by foreign keys (public.referencing.referencing_referenced_id_fkey): they would follow the retired table at the swap; " +
      "drop them first and recreate them against the partitioned table after the swap",
  },
  {
    table: "missing",
    ddl: null,
    message: "public.missing does not exist: check schema and table of the migration",
  },
] as const;

const policy = (table: string) => ({ ...AUDIT_LOG_POLICY, table });
const migration = (table: string, column = "created_at") => ({ id: `partition-${table.replaceAll("_", "-")}`, kind: "partition-table", table, column, swap: "manual" }) as const;

describe("migrate refuses a table it cannot convert, and changes nothing", async () => {
  const { url, sql } = await createTestDatabase();
  for (const c of CASES) if (c.ddl) await sql.unsafe(c.ddl);
  const ctx = await testJobContext(url, { tables: CASES.map((c) => policy(c.table)), migrations: CASES.map((c) => migration(c.table)) });

  it.each(CASES)("$table", async ({ table, message }) => {
    const id = migration(table).id;
    const summary = await runMigrations(ctx, { action: "run", id, dryRun: false });
    expect(summary.ok).toBe(false);
    expect(summary.migrations[0]).toMatchObject({ id, status: "failed", stateBefore: "new", stateAfter: "new", steps: [] });
    expect(summary.migrations[0]!.message).toContain(`migration ${id}: ${message}`);
    // The plan refuses it the same way.
    const plan = await runMigrations(ctx, { action: "run", id, dryRun: true });
    expect(plan.migrations[0]).toMatchObject({ status: "failed", message: summary.migrations[0]!.message });

    expect(await relkind(sql, `${table}_partitioned`)).toBeNull();
    expect(await partkeeperTriggers(sql, table)).toEqual([]);
    expect(await migrationState(sql, id)).toBeNull();
  });
});

describe("migrate refuses a migration id reused with another column", async () => {
  const { url, sql } = await createTestDatabase();
  await sql`create table audit_log (id bigint primary key, created_at timestamptz not null, updated_at timestamptz not null)`;
  await sql`insert into audit_log select g, timestamptz '2026-09-01 00:00:00+00' + g * interval '1 hour', timestamptz '2026-10-01 00:00:00+00' from generate_series(1, 500) g`;
  const before = await testJobContext(url, auditLogConfig());
  const after = await testJobContext(url, auditLogConfig({ column: "updated_at" }));

  it("names both columns and leaves the migration as it was", async () => {
    const first = await runMigrations(before, { action: "run", dryRun: false });
    expect(first.migrations[0]).toMatchObject({ status: "ok", stateAfter: "verified" });

    const refused = (await runMigrations(after, { action: "run", dryRun: false })).migrations[0]!;
    expect(refused).toMatchObject({ status: "failed", stateBefore: "verified", stateAfter: "verified", steps: [] });
    expect(refused.message).toBe(
      'migration partition-audit-log was prepared with column "created_at" and the config now says column "updated_at": ' +
        "a migration id cannot be reused with another spec; give the new migration its own id (and roll back or finalize the old one)",
    );
    expect(await migrationState(sql)).toBe("verified");
    const [copy] = await sql`select pg_get_partkeydef('audit_log_partitioned'::regclass) as key`;
    expect(copy!.key).toBe("RANGE (created_at)");
    const [record] = await sql`select spec->>'column' as column from partkeeper.data_migration`;
    expect(record!.column).toBe("created_at");
  });
});

describe("migrate swap refuses a table whose columns changed since prepare", async () => {
  const { url, sql } = await createTestDatabase();
  await createAuditLog(sql, { rows: 2000 });
  const ctx = await testJobContext(url, auditLogConfig());
  const swap = async () => (await runMigrations(ctx, { action: "swap", id: MIGRATION_ID, dryRun: false })).migrations[0]!;
  const refusal = (drift: string) =>
    "migration partition-audit-log: the columns of public.audit_log and of its copy public.audit_log_partitioned are not the ones the migration copies " +
    `(fixed when it was prepared): ${drift}; nothing was swapped. Undo the column change, or convert the table again under a new migration id`;

  // Regression: a column added to the source after verification was left behind with the retired
  // table (and its values dropped with it at finalize); the partitioned table went live without it.
  it("names a column added to the source, or to both, swaps nothing, and swaps once the change is undone", async () => {
    expect((await runMigrations(ctx, { action: "run", dryRun: false })).migrations[0]).toMatchObject({ status: "ok", stateAfter: "verified" });
    await sql`alter table audit_log add column extra text`;
    await sql`update audit_log set extra = 'kept only here' where id <= 10`;
    expect(await swap()).toMatchObject({ status: "failed", stateAfter: "verified", message: refusal("column extra (text) of public.audit_log is not in public.audit_log_partitioned") });

    await sql`alter table audit_log_partitioned add column extra text`;
    expect(await swap()).toMatchObject({
      status: "failed",
      stateAfter: "verified",
      message: refusal("column extra was added to both since the migration was prepared: the backfill and capture do not copy it"),
    });
    expect(await relkind(sql, "audit_log")).toBe("r");
    expect(await relkind(sql, "audit_log_retired")).toBeNull();
    expect(await migrationState(sql)).toBe("verified");

    await sql.unsafe("alter table audit_log drop column extra; alter table audit_log_partitioned drop column extra");
    expect(await swap()).toMatchObject({ status: "ok", stateAfter: "swapped" });
    expect(await tableDifference(sql, "audit_log", "audit_log_retired")).toEqual({ onlyInFirst: 0, onlyInSecond: 0 });
  });
});

describe("config of migrations", () => {
  it("refuses a migration whose table has no policy in tables", () => {
    const config = { tables: [policy("other")], migrations: [migration("audit_log")] };
    expect(() => parseConfig(config)).toThrow(ConfigError);
    expect(() => parseConfig(config)).toThrow(/^config is invalid:\n {2}migrations\.0\.table: has no policy in tables: add \{ "schema": "public", "table": "audit_log", "strategy": \.\.\. \}/);
  });
});
