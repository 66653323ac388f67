import type { Sql } from "./client.ts";

/**
 * How many objects partkeeper locks at once, in one transaction or one session: half of
 * `max_locks_per_transaction` (at least 1). The shared lock table holds max_locks_per_transaction x
 * (max_connections + max_prepared_transactions) locks for every session together (Postgres docs,
 * "Lock Management"); a transaction that takes far more than its share fails with "out of shared
 * memory" or makes other sessions' transactions fail (pg_partman's run_maintenance() over 1,000
 * parents does, PLATFORM-NOTES). Half leaves the application's sessions their share while partkeeper runs.
 */
export async function lockBudget(sql: Sql): Promise<number> {
  const [row] = await sql<{ locks: number }[]>`select current_setting('max_locks_per_transaction')::int as locks`;
  return Math.max(1, Math.floor(row!.locks / 2));
}
