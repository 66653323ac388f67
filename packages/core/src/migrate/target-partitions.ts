import { readCatalog } from "../catalog/read-catalog.ts";
import type { TablePolicy } from "../config/schema.ts";
import type { Sql } from "../db/client.ts";
import type { DdlStep } from "../db/ddl-executor.ts";
import { displayName } from "../identifier.ts";
import { checkManageable } from "../plan/check-manageable.ts";
import { planFuturePartitions } from "../plan/plan-future-partitions.ts";
import { createPartitionsSql } from "../partitions/partition-ddl.ts";

/**
 * The step creating what a migration's target parent lacks to hold rows from the partition key
 * `lowestKeySql` returns (a query given the parent's key column; null: from now) through premake: planFuturePartitions with `coverFrom`,
 * retention ignored (old rows are the archive job's business once they are in). Null when nothing is
 * missing. The partitions are created in one transaction without moving rows out of the default
 * partition: a range whose rows already sit there fails (Postgres names the default partition);
 * call it before rows arrive.
 * @throws UnmanageableTableError when the parent does not fit its policy.
 */
export async function targetPartitionsStep(
  sql: Sql,
  policy: TablePolicy,
  lowestKeySql: ((keyColumn: string) => string) | null,
  now: Date,
): Promise<DdlStep | null> {
  const snapshot = await readCatalog(sql, [{ name: policy.parent, wantMaxKey: policy.strategy === "range-integer" }], { sizes: false });
  const parent = snapshot.parents[0];
  if (!parent) return null;
  checkManageable(policy, parent);
  const coverFrom = lowestKeySql ? ((await sql.unsafe<{ v: string | null }[]>(`select (${lowestKeySql(parent.keyColumns[0]!.name)})::text as v`))[0]?.v ?? null) : null;
  const { retention: _retention, ...keepAll } = policy as TablePolicy & { retention?: unknown };
  const creates = planFuturePartitions(keepAll as TablePolicy, parent, now, { coverFrom });
  if (!creates.length) return null;
  return {
    description: `create ${creates.length} partitions of ${displayName(policy.parent)} from ${coverFrom ?? "now"} through premake`,
    statements: createPartitionsSql(creates, policy.parent),
    transaction: true,
  };
}
