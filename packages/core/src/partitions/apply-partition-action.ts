import type { ParentInfo } from "../catalog/types.ts";
import type { DdlExecutor } from "../db/ddl-executor.ts";
import { displayName } from "../identifier.ts";
import type {
  CreateDefaultPartitionAction,
  CreatePartitionAction,
  DetachPartitionAction,
  DropPartitionAction,
} from "../plan/actions.ts";
import {
  createDefaultPartitionSql,
  createPartitionOfSql,
  createPartitionsSql,
  createPartitionViaDefaultSql,
  dropTableSql,
  MOVE_STATEMENT,
} from "./partition-ddl.ts";
import type { PlainCreate } from "./create-batches.ts";
import { detachPartition } from "./detach-partition.ts";

export interface PartitionActionResult {
  /** Rows moved out of the default partition into the new partition (create-partition only). */
  readonly rowsMoved?: number;
}

/**
 * Applies one partition action through the DDL executor (so a dry run only records its SQL).
 * Throws what the executor throws (LockTimeoutError after retries, Postgres errors otherwise);
 * a failed step is rolled back, so the parent is as it was.
 */
export async function applyPartitionAction(
  exec: DdlExecutor,
  parent: ParentInfo,
  action: CreatePartitionAction | CreateDefaultPartitionAction | DropPartitionAction | DetachPartitionAction,
): Promise<PartitionActionResult> {
  switch (action.kind) {
    case "create-partition": {
      if (!action.viaDefault) {
        await exec.run({
          description: `create partition ${displayName(action.partition)}`,
          statements: [createPartitionOfSql(action.parent, action.partition, action.bounds)],
          transaction: true,
        });
        return {};
      }
      const counts = await exec.run({
        description: `create partition ${displayName(action.partition)}, moving its rows out of ${displayName(action.viaDefault)}`,
        statements: createPartitionViaDefaultSql({
          parent: action.parent,
          partition: action.partition,
          defaultPartition: action.viaDefault,
          key: parent.keyColumns[0]!.name,
          columns: parent.columns.filter((c) => !c.generated).map((c) => c.name),
          bounds: action.bounds,
        }),
        transaction: true,
      });
      return { rowsMoved: counts[MOVE_STATEMENT] ?? 0 };
    }
    case "create-default-partition":
      await exec.run({
        description: `create default partition ${displayName(action.partition)}`,
        statements: [createDefaultPartitionSql(action.parent, action.partition)],
        transaction: true,
      });
      return {};
    case "detach-partition":
      await detachPartition(exec, parent, action.partition);
      return {};
    case "drop-partition":
      // Detach first: dropping an attached partition would hold ACCESS EXCLUSIVE on the parent.
      await detachPartition(exec, parent, action.partition);
      await exec.run({
        description: `drop partition ${displayName(action.partition)}`,
        statements: [dropTableSql(action.partition)],
        transaction: true,
      });
      return {};
    default: {
      const never: never = action;
      throw new Error(`unknown action ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Creates `creates`, plain creates of one parent (create-batches.ts), in ONE transaction: one step
 * through the executor (lock_timeout, retries), so all of them exist afterwards or none. Its
 * statements are one `CREATE TABLE ... PARTITION OF` per create, in order, sent in one message. The first takes ACCESS
 * EXCLUSIVE on the parent (as any CREATE TABLE ... PARTITION OF does), held to the commit: reads of
 * the parent wait for the whole batch, so batches stay small (createBatches).
 * Throws what the executor throws; the transaction is rolled back.
 */
export async function applyCreateBatch(exec: DdlExecutor, creates: ReadonlyArray<PlainCreate>): Promise<void> {
  const first = creates[0]!;
  await exec.run({
    description: `create ${creates.length} partitions of ${displayName(first.parent)}: ${displayName(first.partition)} .. ${displayName(creates.at(-1)!.partition)}`,
    statements: createPartitionsSql(creates),
    transaction: true,
    oneMessage: true,
  });
}
