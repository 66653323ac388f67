import type { ParentInfo } from "../catalog/types.ts";
import type { Sql } from "../db/client.ts";
import { quoteQualified } from "../db/sql-text.ts";
import type { Action } from "../plan/actions.ts";

/** Counting stops here: the alarm needs "some rows", not an exact figure for a runaway default partition. */
export const DEFAULT_ROWS_CAP = 1_000_000;

/**
 * Rows in the parent's default partition (the existing one, or the one `actions` created) (at most DEFAULT_ROWS_CAP), or null when it has none.
 * Rows there were routed nowhere else: a missing partition, or data outside every range.
 */
export async function defaultPartitionRows(sql: Sql, parent: ParentInfo, actions: ReadonlyArray<Action>): Promise<number | null> {
  const partition =
    parent.partitions.find((p) => p.bounds.kind === "default")?.name ??
    actions.find((a) => a.kind === "create-default-partition")?.partition;
  if (!partition) return null;
  const [row] = await sql`
    select count(*)::int as n from (select 1 from ${sql.unsafe(quoteQualified(partition))} limit ${DEFAULT_ROWS_CAP}) capped`;
  return row!.n as number;
}
