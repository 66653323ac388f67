import type { Action, CreateDefaultPartitionAction, CreatePartitionAction } from "../plan/actions.ts";

/** A create that moves no rows out of a default partition: one `CREATE TABLE ... PARTITION OF` statement. */
export type PlainCreate = CreateDefaultPartitionAction | (CreatePartitionAction & { readonly viaDefault: null });

export function isPlainCreate(action: Action): action is PlainCreate {
  return action.kind === "create-default-partition" || (action.kind === "create-partition" && action.viaDefault === null);
}

/**
 * One parent's actions, in order, cut into the steps a run applies: each run of consecutive plain
 * creates (isPlainCreate) in transactions of at most `perTransaction` creates, every other action
 * alone. A create moving rows out of the default partition stays alone: its transaction holds the
 * default partition's lock while the rows move, and a batch would hold it longer. Pure.
 *
 * @param perTransaction at least 1; e.g. lockBudget / newPartitionLocks.
 */
export function createBatches(actions: ReadonlyArray<Action>, perTransaction: number): ReadonlyArray<ReadonlyArray<Action>> {
  const steps: Action[][] = [];
  let batch: Action[] | null = null;
  for (const action of actions) {
    if (!isPlainCreate(action)) {
      steps.push([action]);
      batch = null;
      continue;
    }
    if (batch === null || batch.length >= perTransaction) {
      batch = [];
      steps.push(batch);
    }
    batch.push(action);
  }
  return steps;
}
