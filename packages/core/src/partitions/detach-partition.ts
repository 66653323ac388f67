import type { ParentInfo } from "../catalog/types.ts";
import { attachment } from "../catalog/read-relation.ts";
import type { DdlExecutor } from "../db/ddl-executor.ts";
import { displayName, type QualifiedName } from "../identifier.ts";
import { detachPartitionSql } from "./partition-ddl.ts";

/**
 * Detaches `partition` from its parent, choosing the least blocking form Postgres allows
 * (Postgres docs, ALTER TABLE "DETACH PARTITION"):
 * - already detached: nothing to do (idempotent: a re-run after a crash lands here);
 * - pending from an interrupted `CONCURRENTLY`: `FINALIZE`;
 * - parent without a default partition: `CONCURRENTLY` (SHARE UPDATE EXCLUSIVE on the parent);
 * - parent with a default partition: plain DETACH in a transaction (CONCURRENTLY is refused there).
 * Returns false when it was already detached, true when this call detached it.
 * Throws LockTimeoutError when the lock cannot be had after the executor's retries.
 */
export async function detachPartition(exec: DdlExecutor, parent: ParentInfo, partition: QualifiedName): Promise<boolean> {
  // Read in a dry run too, so `plan` shows no DETACH for a partition an unfinished archive detached.
  const state = await attachment(exec.sql, partition);
  if (state === "detached") return false;
  const description = `detach partition ${displayName(partition)}`;
  if (state === "pending") {
    await exec.run({ description: `${description} (finalize)`, statements: [detachPartitionSql(parent.parent, partition, "finalize")], transaction: false });
    return true;
  }
  const hasDefault = parent.partitions.some((p) => p.bounds.kind === "default");
  if (hasDefault) {
    await exec.run({ description, statements: [detachPartitionSql(parent.parent, partition, "plain")], transaction: true });
    return true;
  }
  try {
    await exec.run({ description, statements: [detachPartitionSql(parent.parent, partition, "concurrently")], transaction: false });
  } catch (error) {
    // A concurrent detach that timed out in its second phase leaves the partition pending detach.
    if ((await attachment(exec.sql, partition)) !== "pending") throw error;
    await exec.run({ description: `${description} (finalize)`, statements: [detachPartitionSql(parent.parent, partition, "finalize")], transaction: false });
  }
  return true;
}
