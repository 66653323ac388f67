import type { PartitionBounds } from "../catalog/types.ts";
import type { QualifiedName } from "../identifier.ts";

/**
 * One step of a plan: frozen data with a `kind` tag (STYLE.md rule 3). Appliers switch on `kind`
 * exhaustively. Bounds use the same literal text as the catalog (see PartitionBounds).
 */
export type Action =
  | CreatePartitionAction
  | CreateDefaultPartitionAction
  | ArchivePartitionAction
  | DropPartitionAction
  | DetachPartitionAction;

export type ActionKind = Action["kind"];

/**
 * Create a partition. When the parent has a default partition (`viaDefault`), rows of the new
 * range already sitting there are moved in the same transaction (DESIGN rule 4).
 */
export interface CreatePartitionAction {
  readonly kind: "create-partition";
  readonly parent: QualifiedName;
  readonly partition: QualifiedName;
  readonly bounds: Exclude<PartitionBounds, { kind: "default" }>;
  readonly viaDefault: QualifiedName | null;
  /** Why: `premake`, `gap` (a hole between existing partitions), `current`, `hash remainder`, `list value`. */
  readonly reason: string;
}

export interface CreateDefaultPartitionAction {
  readonly kind: "create-default-partition";
  readonly parent: QualifiedName;
  readonly partition: QualifiedName;
}

/** Archive an expired partition (or finish an unfinished archive), then drop it unless `keepTable`. */
export interface ArchivePartitionAction {
  readonly kind: "archive-partition";
  readonly parent: QualifiedName;
  readonly partition: QualifiedName;
  readonly boundExpression: string;
  readonly keepTable: boolean;
  /** Set when a previous run left this archive unfinished (its `partkeeper.archive` id). */
  readonly resumeArchiveId: number | null;
  readonly reason: string;
}

/** Drop an expired partition without archiving (archive disabled by policy). */
export interface DropPartitionAction {
  readonly kind: "drop-partition";
  readonly parent: QualifiedName;
  readonly partition: QualifiedName;
  readonly reason: string;
}

/** Detach an expired partition and keep it as a plain table (archive disabled, retentionKeepTable). */
export interface DetachPartitionAction {
  readonly kind: "detach-partition";
  readonly parent: QualifiedName;
  readonly partition: QualifiedName;
  readonly reason: string;
}
