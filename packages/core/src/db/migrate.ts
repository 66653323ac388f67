import { InsufficientPrivilegeError } from "../errors.ts";
import type { Sql } from "./client.ts";
import { quoteIdent } from "./sql-text.ts";
import { sql as init } from "./migrations/0001-init.ts";
import { sql as restore } from "./migrations/0002-restore.ts";
import { sql as archiveGuard } from "./migrations/0003-archive-guard.ts";
import { sql as dataMigration } from "./migrations/0004-data-migration.ts";
import { sql as recurringMove } from "./migrations/0005-recurring-move.ts";
import { sql as health } from "./migrations/0006-health.ts";
import { sql as healthSetBased } from "./migrations/0007-health-set-based.ts";
import { sql as archiveParts } from "./migrations/0008-archive-parts.ts";
import { sql as partitionBounds } from "./migrations/0009-partition-bounds.ts";

/** Numbered migrations of the `partkeeper` schema, applied in order, each once. */
const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  { version: 1, sql: init },
  { version: 2, sql: restore },
  { version: 3, sql: archiveGuard },
  { version: 4, sql: dataMigration },
  { version: 5, sql: recurringMove },
  { version: 6, sql: health },
  { version: 7, sql: healthSetBased },
  { version: 8, sql: archiveParts },
  { version: 9, sql: partitionBounds },
];

const LATEST = Math.max(...MIGRATIONS.map((m) => m.version));

/**
 * Highest applied migration of partkeeper's schema, 0 when it does not exist yet: the one probe of
 * which of partkeeper's tables exist (records/*.ts ask it before reading, as a dry run does not migrate).
 */
export async function schemaVersion(sql: Sql): Promise<number> {
  const [exists] = await sql`select to_regclass('partkeeper.migration') is not null as present`;
  if (!exists?.present) return 0;
  const [row] = await sql`select coalesce(max(version), 0) as version from partkeeper.migration`;
  return Number(row?.version ?? 0);
}

/** SQLSTATE 42501 insufficient_privilege. */
const INSUFFICIENT_PRIVILEGE = "42501";

/**
 * Creates or upgrades the `partkeeper` schema. Idempotent and safe under concurrency: the
 * migrations run in one transaction holding a transaction-level advisory lock, with a short
 * lock_timeout (DESIGN rule 1). When the schema is current nothing but one read runs, so a role
 * without CREATE on the database can run partkeeper once the schema exists (see docs/deploy.md);
 * an upgrade needs CREATE on the schema only (CREATE SCHEMA is run only when it is missing: it
 * checks the database privilege even with IF NOT EXISTS).
 *
 * @throws InsufficientPrivilegeError when the role may not create or upgrade the schema, naming
 *   the database, the role and the grant (or who can run it once instead).
 */
export async function migrate(sql: Sql, lockTimeoutMs = 5000): Promise<void> {
  const from = await schemaVersion(sql);
  if (from >= LATEST) return;
  try {
    await sql.begin(async (tx) => {
      await tx`select set_config('lock_timeout', ${`${lockTimeoutMs}ms`}, true)`;
      await tx`select pg_advisory_xact_lock(hashtextextended('partkeeper:migrate', 0))`;
      const [schema] = await tx`select to_regnamespace('partkeeper') is not null as present`;
      if (!schema?.present) await tx`create schema partkeeper`;
      await tx`create table if not exists partkeeper.migration (
        version int primary key, applied_at timestamptz not null default now())`;
      const applied = new Set((await tx`select version from partkeeper.migration`).map((r) => r.version as number));
      for (const m of MIGRATIONS) {
        if (applied.has(m.version)) continue;
        await tx.unsafe(m.sql);
        await tx`insert into partkeeper.migration (version) values (${m.version})`;
      }
    });
  } catch (error) {
    if ((error as { code?: string }).code !== INSUFFICIENT_PRIVILEGE) throw error;
    throw await privilegeError(sql, from, error as Error);
  }
}

/** What a role refused by 42501 during migrate is told: what partkeeper was doing, and the grant it needs. */
async function privilegeError(sql: Sql, from: number, cause: Error): Promise<InsufficientPrivilegeError> {
  const [who] = await sql`select current_database() as database, current_user as role`;
  const database = String(who?.database);
  const role = String(who?.role);
  const refused = `role ${role} may not (42501 insufficient_privilege: ${cause.message})`;
  const message =
    from === 0
      ? `partkeeper was creating its own schema partkeeper in database ${database} (first run there) and ${refused}: ` +
        `run GRANT CREATE ON DATABASE ${quoteIdent(database)} TO ${quoteIdent(role)}, ` +
        `or have a role with that privilege (e.g. the database owner) run partkeeper once; later runs need no CREATE privilege`
      : `partkeeper was upgrading its own schema partkeeper in database ${database} from version ${from} to ${LATEST} and ${refused}: ` +
        `have the owner of schema partkeeper run partkeeper once with this version, or run GRANT CREATE ON SCHEMA partkeeper TO ${quoteIdent(role)}`;
  return new InsufficientPrivilegeError(message, { cause });
}
