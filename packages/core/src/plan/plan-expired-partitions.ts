import type { ParentInfo } from "../catalog/types.ts";
import type { TablePolicy } from "../config/schema.ts";
import { sameName } from "../identifier.ts";
import { UNFINISHED_ARCHIVE_STATES, type ArchiveRecord } from "../records/archives.ts";
import {
  archivePartitionAction,
  detachPartitionAction,
  dropPartitionAction,
} from "./action-factories.ts";
import type { Action } from "./actions.ts";
import { describeDuration } from "./describe-duration.ts";
import { integerAxisFor, timeAxisFor } from "./policy-axis.ts";
import { MAX_KEY, type RangeKey } from "./range-key.ts";
import { rangeSegments, type RangeSegment } from "./plan-range-pieces.ts";

/**
 * What to do with `parent`'s expired partitions at `now`, as frozen actions. `parent` has passed
 * checkManageable for `policy` (planAll checks each parent once per plan; this does not check again):
 *
 * 1. First, each unfinished archive of this parent (state intent, detached, exported or verified; by
 *    id) as archive-partition with `resumeArchiveId` = the record id, so a crash after any step is
 *    finished by the next run (DESIGN rule 6). The partition may be detached already, so it is taken
 *    from the record, not from `parent.partitions`. Resumed whatever the current policy says.
 * 2. Then, for range-time and range-integer policies with `retention`, each expired partition, oldest
 *    (lowest upper bound) first, skipping those with an unfinished archive:
 *    - range-time: upper bound <= now - retention, calendar arithmetic in `timeZone` (timestamp and
 *      date keys: on the wall clock in `timeZone`);
 *    - range-integer: upper bound <= maxKey - retention (nothing expires while maxKey is null);
 *    - a MAXVALUE upper bound never expires (a sub-partitioned parent never gets here: checkManageable refuses it).
 *    Per policy: `archive.enabled` -> archive-partition (keepTable = retentionKeepTable);
 *    archive disabled and retentionKeepTable -> detach-partition; otherwise drop-partition.
 *
 * @param unfinished unfinished archive records (any parent; others are ignored).
 * @param now the clock's current instant (UTC).
 * @throws UnmanageableTableError when a catalog bound cannot be read.
 */
export function planExpiredPartitions(
  policy: TablePolicy,
  parent: ParentInfo,
  unfinished: ReadonlyArray<ArchiveRecord>,
  now: Date,
): ReadonlyArray<Action> {
  const keepTable = policy.strategy === "range-time" || policy.strategy === "range-integer" ? policy.retentionKeepTable : false;
  const resumed = unfinished
    .filter((r) => sameName(r.parent, parent.parent) && UNFINISHED_ARCHIVE_STATES.has(r.state))
    .sort((a, b) => a.id - b.id);
  const actions: Action[] = resumed.map((r) =>
    archivePartitionAction({
      parent: parent.parent,
      partition: r.partition,
      boundExpression: r.boundExpression,
      keepTable,
      resumeArchiveId: r.id,
      reason: `resume unfinished archive ${r.id} of ${r.partition.name} (state ${r.state})`,
    }),
  );

  let expired: Array<{ segment: RangeSegment; reason: string }> = [];
  if (policy.strategy === "range-time" && policy.retention) {
    const axis = timeAxisFor(policy, parent);
    const cutoff = axis.minus(axis.nowKey(now), policy.retention);
    const age = describeDuration(policy.retention);
    expired = expiredSegments(rangeSegments(parent, axis), cutoff).map((segment) => ({
      segment,
      reason: `expired: upper bound ${axis.render(segment.to)} is older than ${age}`,
    }));
  } else if (policy.strategy === "range-integer" && policy.retention !== undefined) {
    const { axis, maxKey } = integerAxisFor(policy, parent);
    if (maxKey !== null) {
      const cutoff = maxKey - BigInt(policy.retention);
      expired = expiredSegments(rangeSegments(parent, axis), cutoff).map((segment) => ({
        segment,
        reason: `expired: upper bound ${axis.render(segment.to)} is at or below max key ${maxKey} minus retention ${policy.retention}`,
      }));
    }
  }

  for (const { segment, reason } of expired) {
    const partition = segment.partition.name;
    if (resumed.some((r) => sameName(r.partition, partition))) continue;
    if (policy.strategy !== "range-time" && policy.strategy !== "range-integer") break;
    const common = { parent: parent.parent, partition, reason };
    if (policy.archive.enabled) {
      actions.push(
        archivePartitionAction({
          ...common,
          boundExpression: segment.partition.boundExpression,
          keepTable,
          resumeArchiveId: null,
        }),
      );
    } else if (policy.retentionKeepTable) {
      actions.push(detachPartitionAction(common));
    } else {
      actions.push(dropPartitionAction(common));
    }
  }
  return Object.freeze(actions);
}

/** Segments whose upper bound is at or below `cutoff` (MAXVALUE never), oldest first. */
function expiredSegments(segments: ReadonlyArray<RangeSegment>, cutoff: RangeKey): RangeSegment[] {
  return segments
    .filter((s) => s.to < MAX_KEY && s.to <= cutoff)
    .sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
}
