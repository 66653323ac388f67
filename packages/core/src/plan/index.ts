/** The pure planner: (config, catalog snapshot, now) -> ordered, frozen actions. No I/O. */
export type {
  Action,
  ActionKind,
  ArchivePartitionAction,
  CreateDefaultPartitionAction,
  CreatePartitionAction,
  DetachPartitionAction,
  DropPartitionAction,
} from "./actions.ts";
export {
  archivePartitionAction,
  createDefaultPartitionAction,
  createPartitionAction,
  detachPartitionAction,
  dropPartitionAction,
} from "./action-factories.ts";
export { checkManageable, METHOD_OF_STRATEGY } from "./check-manageable.ts";
export { describeDuration } from "./describe-duration.ts";
export { INTEGER_KEY_TYPES, integerAxis, integerKeyTypeOf, integerSuffix, parseIntegerKey, type IntegerKeyType } from "./integer-slots.ts";
export { partitionName, shortHash, truncateUtf8, utf8Bytes } from "./partition-name.ts";
export { planAll, type ParentPlan, type PlanWhich } from "./plan-all.ts";
export { planExpiredPartitions, UNFINISHED_ARCHIVE_STATES } from "./plan-expired-partitions.ts";
export { DEFAULT_PARTITION_SUFFIX, listSuffix, planFuturePartitions } from "./plan-future-partitions.ts";
export type { RangeAxis } from "./range-axis.ts";
export { MAX_KEY, MIN_KEY, type RangeKey } from "./range-key.ts";
export {
  instantToKey,
  isRepeatedWallTime,
  nextSlotStart,
  parseTimeBound,
  parseTimeKey,
  renderTimeBound,
  renderTimeKey,
  slotStart,
  timeAxis,
  timeKeyTypeOf,
  type TimeAxis,
  type TimeKeyType,
} from "./time-slots.ts";
