import type { Sql } from "./client.ts";
import { sql as init } from "./migrations/0001-init.ts";
import { sql as restore } from "./migrations/0002-restore.ts";

/** Numbered migrations of the `partkeeper` schema, applied in order, each once. */
const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  { version: 1, sql: init },
  { version: 2, sql: restore },
];

/**
 * Creates or upgrades the `partkeeper` schema. Idempotent and safe under concurrency: the
 * migrations run in one transaction holding a transaction-level advisory lock.
 */
export async function migrate(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended('partkeeper:migrate', 0))`;
    await tx`create schema if not exists partkeeper`;
    await tx`create table if not exists partkeeper.migration (
      version int primary key, applied_at timestamptz not null default now())`;
    const applied = new Set((await tx`select version from partkeeper.migration`).map((r) => r.version as number));
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await tx.unsafe(m.sql);
      await tx`insert into partkeeper.migration (version) values (${m.version})`;
    }
  });
}

/** True when the `partkeeper` schema exists (a dry run reads state only if it does). */
export async function hasPartkeeperSchema(sql: Sql): Promise<boolean> {
  const [row] = await sql`select to_regclass('partkeeper.archive') is not null as present`;
  return Boolean(row?.present);
}
