import { qualifiedName, type QualifiedName } from "../identifier.ts";
import type {
  ArchivePartitionAction,
  CreateDefaultPartitionAction,
  CreatePartitionAction,
  DetachPartitionAction,
  DropPartitionAction,
} from "./actions.ts";

/**
 * Small factories returning frozen actions (STYLE.md rule 3). Nested `bounds` (and its `values`)
 * are frozen too.
 */
export function createPartitionAction(fields: Omit<CreatePartitionAction, "kind">): CreatePartitionAction {
  const bounds =
    fields.bounds.kind === "list"
      ? Object.freeze({ ...fields.bounds, values: Object.freeze([...fields.bounds.values]) })
      : Object.freeze({ ...fields.bounds });
  return Object.freeze({
    kind: "create-partition",
    parent: frozenName(fields.parent),
    partition: frozenName(fields.partition),
    bounds,
    viaDefault: fields.viaDefault,
    reason: fields.reason,
  });
}

/** A frozen `create-default-partition` action. */
export function createDefaultPartitionAction(parent: QualifiedName, partition: QualifiedName): CreateDefaultPartitionAction {
  return Object.freeze({ kind: "create-default-partition", parent: frozenName(parent), partition: frozenName(partition) });
}

/** A frozen `archive-partition` action. */
export function archivePartitionAction(fields: Omit<ArchivePartitionAction, "kind">): ArchivePartitionAction {
  return Object.freeze({
    kind: "archive-partition",
    ...fields,
    parent: frozenName(fields.parent),
    partition: frozenName(fields.partition),
  });
}

/** A frozen `drop-partition` action. */
export function dropPartitionAction(fields: Omit<DropPartitionAction, "kind">): DropPartitionAction {
  return Object.freeze({
    kind: "drop-partition",
    ...fields,
    parent: frozenName(fields.parent),
    partition: frozenName(fields.partition),
  });
}

/** A frozen `detach-partition` action. */
export function detachPartitionAction(fields: Omit<DetachPartitionAction, "kind">): DetachPartitionAction {
  return Object.freeze({
    kind: "detach-partition",
    ...fields,
    parent: frozenName(fields.parent),
    partition: frozenName(fields.partition),
  });
}

/** A frozen copy of a name (catalog objects are not necessarily frozen). */
function frozenName(name: QualifiedName): QualifiedName {
  return Object.isFrozen(name) ? name : qualifiedName(name.schema, name.name);
}
