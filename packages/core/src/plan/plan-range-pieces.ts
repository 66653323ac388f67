import type { PartitionInfo, ParentInfo } from "../catalog/types.ts";
import { UnmanageableTableError } from "../errors.ts";
import { displayName } from "../identifier.ts";
import type { RangeAxis } from "./range-axis.ts";
import { greaterKey, isFiniteKey, lesserKey, type RangeKey } from "./range-key.ts";

/** An existing range partition as `[from, to)` on the key line (sentinels for MINVALUE/MAXVALUE). */
export interface RangeSegment {
  readonly from: RangeKey;
  readonly to: RangeKey;
  readonly partition: PartitionInfo;
}

/**
 * The parent's range partitions as segments sorted by lower bound, read from the catalog bounds
 * (DESIGN rule 3: never from names). Detach-pending partitions are included: they still cover
 * their range. The default partition is not a segment.
 * @throws UnmanageableTableError when a bound cannot be read for this key type.
 */
export function rangeSegments(parent: ParentInfo, axis: RangeAxis): RangeSegment[] {
  const segments: RangeSegment[] = [];
  for (const partition of parent.partitions) {
    if (partition.bounds.kind !== "range") continue;
    try {
      segments.push({ from: axis.parse(partition.bounds.from), to: axis.parse(partition.bounds.to), partition });
    } catch (cause) {
      throw new UnmanageableTableError(
        `${displayName(parent.parent)}: partition ${partition.name.name} has bounds "${partition.boundExpression}" that partkeeper cannot read (${(cause as Error).message}): check the partition key type`,
        { cause },
      );
    }
  }
  return segments.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
}

/** Why a range piece is planned (CreatePartitionAction.reason). */
export type RangePieceReason = "gap" | "current" | "premake";

/** A range to create: `[from, to)`, its name suffix and why. */
export interface RangePiece {
  readonly from: RangeKey;
  readonly to: RangeKey;
  readonly suffix: string;
  readonly reason: RangePieceReason;
}

/**
 * Most partitions one run creates for one parent. A larger plan means a far outlier key or a
 * very old partition followed by a long hole (e.g. a year of hourly slots): refused with an error
 * naming the range rather than run as thousands of DDL statements.
 */
export const MAX_PIECES_PER_RUN = 1000;

export interface RangePiecesOptions {
  readonly axis: RangeAxis;
  /** Existing partitions, sorted by lower bound, non-overlapping (as Postgres guarantees). */
  readonly segments: ReadonlyArray<RangeSegment>;
  /** Start of the slot holding now (time) or the current maximum key (integer). */
  readonly currentSlot: RangeKey;
  /** Slots wanted after the current one. */
  readonly premake: number;
  /** Pieces whose upper bound is at or below this key are expired by retention and not created; null: none. */
  readonly expiredAtOrBelow: RangeKey | null;
  /** Also cover every slot from the one holding this key (a table's lowest key, when a migration creates its partitions); null: none. */
  readonly coverFrom?: RangeKey | null;
}

/**
 * The ranges missing on the key line, ascending:
 * - every slot from `currentSlot` through `premake` slots ahead (`current`, `premake`);
 * - every slot between the earliest finite bound of an existing partition and `currentSlot` (`gap`),
 *   except pieces already expired by retention;
 * - of a slot partly covered by existing partitions (bounds not aligned with the interval, or
 *   MINVALUE/MAXVALUE), only the uncovered pieces, named by their lower bound (`unalignedSuffix`);
 *   a whole slot is named by `alignedSuffix`.
 * Never overlaps an existing partition. Stretches covered by one existing partition are skipped in one
 * step, so a wide old partition costs nothing.
 * @throws UnmanageableTableError when more than MAX_PIECES_PER_RUN pieces are missing.
 */
export function planRangePieces(options: RangePiecesOptions): RangePiece[] {
  const { axis, segments, currentSlot, premake, expiredAtOrBelow } = options;

  let end = currentSlot;
  for (let i = 0; i <= premake && end <= axis.lastSlotStart; i++) end = axis.nextSlot(end);

  let earliest: RangeKey | null = null;
  for (const s of segments) {
    for (const bound of [s.from, s.to]) {
      if (isFiniteKey(bound) && (earliest === null || bound < earliest)) earliest = bound;
    }
  }
  const { coverFrom = null } = options;
  if (coverFrom !== null && (earliest === null || coverFrom < earliest)) earliest = coverFrom;
  let start = currentSlot;
  if (earliest !== null && earliest < currentSlot) start = axis.slotOf(earliest);
  if (expiredAtOrBelow !== null && isFiniteKey(expiredAtOrBelow)) {
    start = greaterKey(start, lesserKey(axis.slotOf(expiredAtOrBelow), currentSlot));
  }

  const pieces: RangePiece[] = [];
  let first = 0; // first segment whose upper bound is above the slot start
  let slot = start;
  while (slot < end && slot <= axis.lastSlotStart) {
    const next = axis.nextSlot(slot);
    while (first < segments.length && segments[first]!.to <= slot) first++;
    const reason: RangePieceReason = slot < currentSlot ? "gap" : slot === currentSlot ? "current" : "premake";
    let cursor = slot;
    const uncovered: Array<[RangeKey, RangeKey]> = [];
    for (let j = first; j < segments.length && segments[j]!.from < next; j++) {
      const segment = segments[j]!;
      if (segment.from > cursor) uncovered.push([cursor, segment.from]);
      cursor = greaterKey(cursor, segment.to);
    }
    if (cursor < next) uncovered.push([cursor, next]);
    for (const [from, to] of uncovered) {
      if (expiredAtOrBelow !== null && to <= expiredAtOrBelow) continue;
      const whole = from === slot && to === next;
      if (pieces.length === MAX_PIECES_PER_RUN) {
        throw new UnmanageableTableError(
          `more than ${MAX_PIECES_PER_RUN} partitions are missing between ${axis.render(start)} and ${axis.render(end)}: ` +
            "look for an outlier key or a very old partition, create or drop partitions by hand, then run again",
        );
      }
      pieces.push({ from, to, reason, suffix: whole ? axis.alignedSuffix(slot) : axis.unalignedSuffix(from) });
    }
    if (cursor > next) {
      // One existing partition reaches past this slot: jump to the slot holding its upper bound.
      if (cursor >= end || !isFiniteKey(cursor)) break;
      slot = greaterKey(next, axis.slotOf(cursor));
    } else {
      slot = next;
    }
  }
  return pieces;
}
