import { hasAlwaysTrigger } from "../catalog/read-relation.ts";
import type { Sql } from "../db/client.ts";
import type { DdlExecutor } from "../db/ddl-executor.ts";
import { literal, quoteIdent, quoteQualified } from "../db/sql-text.ts";
import { displayName, type QualifiedName } from "../identifier.ts";

/** Name of the guard trigger on a partition being archived. */
export const ARCHIVE_GUARD_TRIGGER = "partkeeper_archive_guard";

/**
 * Makes a detached partition read-only until its drop (DESIGN rule 11: a write between the export and
 * the drop fails loudly, it is never lost), with `partkeeper.archive_guard()` (migration 0003): a
 * statement-level trigger on every write and TRUNCATE, fired even under
 * `session_replication_role = replica` (ENABLE ALWAYS). Creating it takes SHARE ROW EXCLUSIVE on the
 * partition, so it waits for writers already in the table: every write that got in before it is
 * committed when the export's snapshot is taken afterwards. Idempotent (`CREATE OR REPLACE`, PG 14+).
 *
 * ```sql
 * CREATE OR REPLACE TRIGGER "partkeeper_archive_guard" BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON "s"."p"
 *   FOR EACH STATEMENT EXECUTE FUNCTION partkeeper.archive_guard()
 * ALTER TABLE "s"."p" ENABLE ALWAYS TRIGGER "partkeeper_archive_guard"
 * ```
 */
export function installArchiveGuardSql(partition: QualifiedName): string[] {
  return [
    `CREATE OR REPLACE TRIGGER ${quoteIdent(ARCHIVE_GUARD_TRIGGER)} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${quoteQualified(partition)} ` +
      "FOR EACH STATEMENT EXECUTE FUNCTION partkeeper.archive_guard()",
    `ALTER TABLE ${quoteQualified(partition)} ENABLE ALWAYS TRIGGER ${quoteIdent(ARCHIVE_GUARD_TRIGGER)}`,
  ];
}

/** `DROP TRIGGER IF EXISTS "partkeeper_archive_guard" ON "s"."p"`: a kept partition is writable again. */
export function removeArchiveGuardSql(partition: QualifiedName): string {
  return `DROP TRIGGER IF EXISTS ${quoteIdent(ARCHIVE_GUARD_TRIGGER)} ON ${quoteQualified(partition)}`;
}

/**
 * Drops an archived partition in one transaction that first locks it and proves the guard held since
 * verification (`partkeeper.assert_archive_guard`: not attached, guard present and enabled):
 *
 * ```sql
 * LOCK TABLE "s"."p" IN ACCESS EXCLUSIVE MODE
 * SELECT partkeeper.assert_archive_guard('"s"."p"'::regclass)
 * DROP TABLE "s"."p"
 * ```
 */
export function dropGuardedPartitionSql(partition: QualifiedName): string[] {
  return [
    `LOCK TABLE ${quoteQualified(partition)} IN ACCESS EXCLUSIVE MODE`,
    `SELECT partkeeper.assert_archive_guard(${literal(quoteQualified(partition))}::regclass)`,
    `DROP TABLE ${quoteQualified(partition)}`,
  ];
}

/** Installs the guard through the executor (lock_timeout, retries; recorded in a dry run). */
export async function installArchiveGuard(exec: DdlExecutor, partition: QualifiedName): Promise<void> {
  await exec.run({
    description: `make detached partition ${displayName(partition)} read-only until it is dropped`,
    statements: installArchiveGuardSql(partition),
    transaction: true,
  });
}

/** True when the table exists and carries an enabled (ALWAYS) archive guard. */
export function hasArchiveGuard(sql: Sql, partition: QualifiedName): Promise<boolean> {
  return hasAlwaysTrigger(sql, partition, ARCHIVE_GUARD_TRIGGER);
}
