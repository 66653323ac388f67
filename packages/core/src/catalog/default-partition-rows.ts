import type { ParentInfo } from "../catalog/types.ts";
import type { Sql } from "../db/client.ts";
import { quoteQualified } from "../db/sql-text.ts";
import type { QualifiedName } from "../identifier.ts";
import type { Action } from "../plan/actions.ts";

/** Counting stops here: the alarm needs "some rows", not an exact figure for a runaway default partition. */
export const DEFAULT_ROWS_CAP = 1_000_000;

/** The parent's default partition: the existing one, or the one `actions` created; null when it has none. */
export function defaultPartitionOf(parent: ParentInfo, actions: ReadonlyArray<Action>): QualifiedName | null {
  return (
    parent.partitions.find((p) => p.bounds.kind === "default")?.name ??
    actions.find((a) => a.kind === "create-default-partition")?.partition ??
    null
  );
}

/**
 * Rows in the parent's default partition (the existing one, or the one `actions` created) (at most DEFAULT_ROWS_CAP), or null when it has none.
 * Rows there were routed nowhere else: a missing partition, or data outside every range.
 */
export async function defaultPartitionRows(sql: Sql, parent: ParentInfo, actions: ReadonlyArray<Action>): Promise<number | null> {
  const partition = defaultPartitionOf(parent, actions);
  if (!partition) return null;
  const [count] = await countDefaultPartitionRows(sql, [partition]);
  return count!;
}

/**
 * Rows in each of `partitions` (at most DEFAULT_ROWS_CAP each), in order, in one statement:
 * `select 0 as i, count(*)::int as n from (select 1 from "s"."t_default" limit $1) c union all select 1 ...` ($1: the cap).
 * The statement holds an ACCESS SHARE lock on every partition and its indexes until it ends: pass a
 * few dozen at a time (lockBudget). Throws when any of them does not exist.
 */
export async function countDefaultPartitionRows(sql: Sql, partitions: ReadonlyArray<QualifiedName>): Promise<number[]> {
  if (!partitions.length) return [];
  const text = partitions
    .map((p, i) => `select ${i} as i, count(*)::int as n from (select 1 from ${quoteQualified(p)} limit $1) c`)
    .join(" union all ");
  const rows = await sql.unsafe<{ i: number; n: number }[]>(text, [DEFAULT_ROWS_CAP]);
  const counts = new Array<number>(partitions.length);
  for (const row of rows) counts[row.i] = row.n;
  return counts;
}
