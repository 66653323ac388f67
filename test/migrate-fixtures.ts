import type postgres from "postgres";
import type { ConfigInput } from "@partkeeper/core";

/**
 * Shared fixtures of the migrate-*.test.ts files: the `audit_log` table they convert, the config
 * that converts it, and the checks they make on the database afterwards (tables compared with
 * EXCEPT ALL both ways, what a refused migration must not have left behind).
 */

export const MIGRATION_ID = "partition-audit-log";

/** The clock of testJobContext (2026-11-21): premake 2 gives partitions up to 2027-01, and a default one. */
export const AUDIT_LOG_POLICY = { table: "audit_log", strategy: "range-time", interval: "month", premake: 2 } as const;

type MigrationInput = NonNullable<ConfigInput["migrations"]>[number];

/** The config converting `audit_log` by `created_at` (swap manual unless `migration` says otherwise). */
export function auditLogConfig(migration: Partial<MigrationInput> = {}, config: Partial<ConfigInput> = {}): ConfigInput {
  return {
    tables: [AUDIT_LOG_POLICY],
    migrations: [{ id: MIGRATION_ID, kind: "partition-table", table: "audit_log", column: "created_at", swap: "manual", ...migration } as MigrationInput],
    ...config,
  };
}

/**
 * Creates `table` as an application would have it (identity key, a generated column, indexes, a
 * comment) and seeds `rows` rows, one a minute from 2026-08-01 00:01 UTC (20,000 rows reach 2026-08-14,
 * 60,000 rows 2026-09-11). `filler` characters of text per row make rows (and batches) heavier.
 */
export async function createAuditLog(sql: postgres.Sql, options: { rows: number; table?: string; filler?: number }): Promise<void> {
  const table = options.table ?? "audit_log";
  await sql.unsafe(`
    create table ${table} (id bigint generated always as identity primary key, created_at timestamptz not null,
      actor text not null, detail jsonb, n int generated always as (length(actor)) stored);
    create index on ${table} (actor);
    create index on ${table} (created_at);
    comment on table ${table} is 'who did what';
    insert into ${table} (created_at, actor, detail)
      select timestamptz '2026-08-01 00:00:00+00' + g * interval '1 minute', 'user' || (g % 50),
             jsonb_build_object('g', g${options.filler ? `, 'filler', repeat('x', ${options.filler})` : ""})
      from generate_series(1, ${options.rows}) g;
    analyze ${table};
  `);
}

/** Rows of `a` missing from `b` and rows of `b` missing from `a`, as multisets (EXCEPT ALL both ways). */
export async function tableDifference(sql: postgres.Sql, a: string, b: string, columns = "*"): Promise<{ onlyInFirst: number; onlyInSecond: number }> {
  const [row] = await sql.unsafe<{ onlyInFirst: number; onlyInSecond: number }[]>(`
    select (select count(*) from (select ${columns} from ${a} except all select ${columns} from ${b}) x)::int as "onlyInFirst",
           (select count(*) from (select ${columns} from ${b} except all select ${columns} from ${a}) x)::int as "onlyInSecond"`);
  return row!;
}

/** `pg_class.relkind` of `name` (`r` plain, `p` partitioned), or null when no relation has that name. */
export async function relkind(sql: postgres.Sql, name: string): Promise<string | null> {
  const [row] = await sql`select relkind::text from pg_class where oid = to_regclass(${name})`;
  return (row?.relkind as string | undefined) ?? null;
}

/** partkeeper's triggers on `table` (capture), by name. */
export async function partkeeperTriggers(sql: postgres.Sql, table: string): Promise<string[]> {
  const rows = await sql`select tgname from pg_trigger where tgrelid = to_regclass(${table}) and tgname like 'partkeeper%' order by 1`;
  return rows.map((r) => r.tgname as string);
}

/** The state of migration `id` in partkeeper.data_migration, or null (no row, or no schema yet). */
export async function migrationState(sql: postgres.Sql, id = MIGRATION_ID): Promise<string | null> {
  const [exists] = await sql`select to_regclass('partkeeper.data_migration') is not null as yes`;
  if (!exists!.yes) return null;
  const [row] = await sql`select state from partkeeper.data_migration where id = ${id}`;
  return (row?.state as string | undefined) ?? null;
}

/** Row count of each partition of `parent` (relation name as regclass text), read through tableoid. */
export async function rowsPerPartition(sql: postgres.Sql, parent: string): Promise<Record<string, number>> {
  const rows = await sql.unsafe(`select tableoid::regclass::text as p, count(*)::int as n from ${parent} group by 1 order by 1`);
  return Object.fromEntries(rows.map((r) => [r.p as string, r.n as number]));
}
