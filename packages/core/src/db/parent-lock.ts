import type { QualifiedName } from "../identifier.ts";
import type { Sql } from "./client.ts";

/**
 * Runs `work` while holding partkeeper's session advisory lock for `parent` (DESIGN rule 2: one
 * runner per parent). The lock lives on a reserved connection, so it is released if the process
 * dies. Returns `{ acquired: false }` without running `work` when another runner holds it.
 *
 * Key: `hashtextextended('partkeeper:' || <schema,name as JSON>, 0)`, a bigint in the advisory lock space.
 */
export async function withParentLock<T>(
  sql: Sql,
  parent: QualifiedName,
  work: () => Promise<T>,
): Promise<{ acquired: true; value: T } | { acquired: false; holder: string }> {
  const key = `partkeeper:${JSON.stringify([parent.schema, parent.name])}`;
  const connection = await sql.reserve();
  try {
    const [row] = await connection`select pg_try_advisory_lock(hashtextextended(${key}, 0)) as acquired`;
    if (!row?.acquired) {
      return { acquired: false, holder: await lockHolder(connection, key) };
    }
    try {
      return { acquired: true, value: await work() };
    } finally {
      await connection`select pg_advisory_unlock(hashtextextended(${key}, 0))`;
    }
  } finally {
    connection.release();
  }
}

/** Who holds the lock, for the skip message: `pid 1234 (partkeeper, running since ...)`. */
async function lockHolder(sql: Sql, key: string): Promise<string> {
  const [row] = await sql`
    select a.pid, a.application_name, a.backend_start
    from pg_locks l join pg_stat_activity a using (pid)
    where l.locktype = 'advisory' and l.granted
      and ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(${key}, 0)
    limit 1`;
  return row ? `pid ${row.pid} (${row.application_name || "unknown"}, connected since ${new Date(row.backend_start).toISOString()})` : "another session";
}
