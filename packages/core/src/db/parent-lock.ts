import type { QualifiedName } from "../identifier.ts";
import type { Sql } from "./client.ts";

/** The advisory lock key of `parent`: the text hashed by `hashtextextended(key, 0)`. */
function lockKey(parent: QualifiedName): string {
  return `partkeeper:${JSON.stringify([parent.schema, parent.name])}`;
}

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
  const key = lockKey(parent);
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

/**
 * withParentLock for several parents at once: takes every lock it can in one statement, runs `work`
 * with `holders` (per parent, in order: null when this run holds its lock, else who does, for the
 * skip message) and the connection holding the locks, then releases them in one statement, whatever
 * `work` did. Same keys as withParentLock. `work` may read on `connection`: a run that reads
 * nowhere else opens no second connection (each new connection first reads every array type in
 * pg_type, one per table: tens of ms over 32,000 partitions). Each lock takes a slot of the shared
 * lock table until it is released: pass at most lockBudget's count of parents.
 */
export async function withParentLocks<T>(
  sql: Sql,
  parents: ReadonlyArray<QualifiedName>,
  work: (holders: ReadonlyArray<string | null>, connection: Sql) => Promise<T>,
): Promise<T> {
  const keys = parents.map(lockKey);
  const connection = await sql.reserve();
  try {
    const rows = await connection<{ acquired: boolean }[]>`
      select pg_try_advisory_lock(hashtextextended(k.key, 0)) as acquired
      from jsonb_array_elements_text(${connection.json(keys)}) with ordinality as k(key, position)
      order by k.position`;
    const taken = keys.filter((_, i) => rows[i]!.acquired);
    try {
      const holders: Array<string | null> = [];
      for (const [i, key] of keys.entries()) holders.push(rows[i]!.acquired ? null : await lockHolder(connection, key));
      return await work(holders, connection);
    } finally {
      if (taken.length) await connection`select pg_advisory_unlock(hashtextextended(k, 0)) from jsonb_array_elements_text(${connection.json(taken)}) k`;
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
