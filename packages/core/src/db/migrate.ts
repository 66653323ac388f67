import type { Sql } from "./client.ts";
import { sql as init } from "./migrations/0001-init.ts";
import { sql as restore } from "./migrations/0002-restore.ts";

/** Numbered migrations of the `partkeeper` schema, applied in order, each once. */
const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  { version: 1, sql: init },
  { version: 2, sql: restore },
];

const LATEST = Math.max(...MIGRATIONS.map((m) => m.version));

/** Highest applied migration, 0 when partkeeper's schema does not exist yet. */
async function appliedVersion(sql: Sql): Promise<number> {
  const [exists] = await sql`select to_regclass('partkeeper.migration') is not null as present`;
  if (!exists?.present) return 0;
  const [row] = await sql`select coalesce(max(version), 0) as version from partkeeper.migration`;
  return Number(row?.version ?? 0);
}

/**
 * Creates or upgrades the `partkeeper` schema. Idempotent and safe under concurrency: the
 * migrations run in one transaction holding a transaction-level advisory lock, with a short
 * lock_timeout (DESIGN rule 1). When the schema is current nothing but one read runs, so a role
 * without CREATE on the database can run partkeeper once the schema exists (see docs/deploy.md).
 */
export async function migrate(sql: Sql, lockTimeoutMs = 5000): Promise<void> {
  if ((await appliedVersion(sql)) >= LATEST) return;
  await sql.begin(async (tx) => {
    await tx`select set_config('lock_timeout', ${`${lockTimeoutMs}ms`}, true)`;
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
