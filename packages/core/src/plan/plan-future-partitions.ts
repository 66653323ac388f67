import type { ParentInfo, PartitionBounds } from "../catalog/types.ts";
import type { TablePolicy } from "../config/schema.ts";
import { qualifiedName } from "../identifier.ts";
import { createDefaultPartitionAction, createPartitionAction } from "./action-factories.ts";
import type { Action, CreatePartitionAction } from "./actions.ts";
import { partitionName, shortHash, truncateUtf8, utf8Bytes } from "./partition-name.ts";
import { integerAxisFor, timeAxisFor } from "./policy-axis.ts";
import type { RangeAxis } from "./range-axis.ts";
import { isFiniteKey, type RangeKey } from "./range-key.ts";
import { planRangePieces, rangeSegments, type RangeSegment } from "./plan-range-pieces.ts";

/** Name suffix of the default partition. */
export const DEFAULT_PARTITION_SUFFIX = "_default";

/** List-value suffixes longer than this (bytes) are cut and get a hash of the value. */
const MAX_LIST_SUFFIX_BYTES = 40;

/**
 * The partitions `parent` is missing under `policy` at `now`, as frozen create actions. `parent` has
 * passed checkManageable for `policy` (planAll checks each parent once per plan; this does not check again):
 *
 * - range-time: every slot of `interval` from the one holding `now` (in `timeZone`) through `premake`
 *   slots ahead (reasons `current`, `premake`). Premake counts from now, not from the newest row (DESIGN
 *   rule 3; pg_partman #175, #374, #585). Also every missing slot between the earliest existing range
 *   partition and now (`gap`), except pieces already expired by `retention`.
 * - range-integer: the same with slots of `step` key values; the current slot holds `maxKey`
 *   (floor(maxKey / step) * step, exact with BigInt); for an empty parent (maxKey null) it is the slot
 *   of the lowest existing bound, or the slot starting at 0 when there is no partition. Gaps below it
 *   whose upper bound is at or below maxKey - retention are not created.
 * - Range slots partly covered by existing partitions (unaligned bounds, MINVALUE/MAXVALUE) get only
 *   their uncovered pieces; nothing planned overlaps an existing partition.
 * - list: each configured value found in no list partition gets `<parent>_p_<value>` (`list value`).
 * - hash: each remainder 0..modulus-1 without a partition gets `<parent>_p<remainder>` (`hash remainder`).
 * - With `defaultPartition` and no default partition yet: one create-default-partition, LAST, so
 *   the creates before it need not move rows out of a default.
 *
 * Range creates are ascending by lower bound, list creates in config order, hash by remainder.
 * `viaDefault` is the existing default partition (its rows of a new range are moved, DESIGN rule 4).
 * Names follow `partitionName` and never collide with existing partitions or each other.
 *
 * @param now the clock's current instant (UTC); only range-time uses it.
 * @throws UnmanageableTableError when a catalog bound cannot be read.
 */
export function planFuturePartitions(
  policy: TablePolicy,
  parent: ParentInfo,
  now: Date,
  options: FuturePartitionsOptions = {},
): ReadonlyArray<Action> {
  const taken = new Set(parent.partitions.map((p) => p.name.name));
  const existingDefault = parent.partitions.find((p) => p.bounds.kind === "default");
  const viaDefault = existingDefault ? qualifiedName(existingDefault.name.schema, existingDefault.name.name) : null;
  const actions: Action[] = [];

  const create = (suffix: string, bounds: CreatePartitionAction["bounds"], reason: string) => {
    const partition = partitionName(parent.parent, suffix, taken);
    taken.add(partition.name);
    actions.push(createPartitionAction({ parent: parent.parent, partition, bounds, viaDefault, reason }));
  };
  const createRanges = (axis: RangeAxis, pieces: ReturnType<typeof planRangePieces>) => {
    for (const piece of pieces) {
      create(piece.suffix, { kind: "range", from: axis.render(piece.from), to: axis.render(piece.to) }, piece.reason);
    }
  };

  switch (policy.strategy) {
    case "range-time": {
      const axis = timeAxisFor(policy, parent);
      const nowKey = axis.nowKey(now);
      const pieces = planRangePieces({
        axis,
        segments: rangeSegments(parent, axis),
        currentSlot: axis.slotOf(nowKey),
        premake: policy.premake,
        expiredAtOrBelow: policy.retention ? axis.minus(nowKey, policy.retention) : null,
        coverFrom: coverFromKey(axis, options.coverFrom),
      });
      createRanges(axis, pieces);
      break;
    }
    case "range-integer": {
      const { axis, maxKey } = integerAxisFor(policy, parent);
      const segments = rangeSegments(parent, axis);
      const lowest = lowestFiniteBound(segments);
      const current = maxKey !== null ? axis.slotOf(maxKey) : lowest !== null ? axis.slotOf(lowest) : 0n;
      const pieces = planRangePieces({
        axis,
        segments,
        currentSlot: current,
        premake: policy.premake,
        expiredAtOrBelow: maxKey !== null && policy.retention !== undefined ? maxKey - BigInt(policy.retention) : null,
        coverFrom: coverFromKey(axis, options.coverFrom),
      });
      createRanges(axis, pieces);
      break;
    }
    case "list": {
      const present = new Set<string>();
      for (const p of parent.partitions) {
        if (p.bounds.kind === "list") for (const v of p.bounds.values) if (v !== null) present.add(v);
      }
      for (const value of policy.values) {
        const text = String(value);
        if (present.has(text)) continue;
        present.add(text);
        create(listSuffix(text), { kind: "list", values: [text] }, "list value");
      }
      break;
    }
    case "hash": {
      const present = new Set<number>();
      for (const p of parent.partitions) if (p.bounds.kind === "hash") present.add(p.bounds.remainder);
      for (let remainder = 0; remainder < policy.modulus; remainder++) {
        if (present.has(remainder)) continue;
        const bounds: Extract<PartitionBounds, { kind: "hash" }> = { kind: "hash", modulus: policy.modulus, remainder };
        create(`_p${remainder}`, bounds, "hash remainder");
      }
      break;
    }
    default: {
      const never: never = policy;
      throw new Error(`unknown strategy ${JSON.stringify(never)}`);
    }
  }

  if (policy.defaultPartition && !existingDefault) {
    const partition = partitionName(parent.parent, DEFAULT_PARTITION_SUFFIX, taken);
    taken.add(partition.name);
    actions.push(createDefaultPartitionAction(parent.parent, partition));
  }
  return Object.freeze(actions);
}

export interface FuturePartitionsOptions {
  /**
   * A key literal (as Postgres prints it, TimeZone UTC) from whose slot on range slots are covered too,
   * even below the current one: a migration's lowest key, so every row of the table it copies has a partition.
   */
  readonly coverFrom?: string | null;
}

function coverFromKey(axis: RangeAxis, literal: string | null | undefined): RangeKey | null {
  return literal === null || literal === undefined ? null : axis.parse(literal);
}

/**
 * Suffix of a list partition: `_p_<value>` (the value as is: identifiers are quoted when used). A value
 * whose suffix would pass 40 bytes is cut (whole characters) and gets `_<6 hex of sha256(value)>`,
 * so long values stay distinct and leave room for the parent name.
 */
export function listSuffix(value: string): string {
  const plain = `_p_${value}`;
  if (utf8Bytes(plain) <= MAX_LIST_SUFFIX_BYTES) return plain;
  return `_p_${truncateUtf8(value, MAX_LIST_SUFFIX_BYTES - 10)}_${shortHash(value)}`;
}

function lowestFiniteBound(segments: ReadonlyArray<RangeSegment>): RangeKey | null {
  let lowest: RangeKey | null = null;
  for (const s of segments) {
    for (const bound of [s.from, s.to]) if (isFiniteKey(bound) && (lowest === null || bound < lowest)) lowest = bound;
  }
  return lowest;
}
