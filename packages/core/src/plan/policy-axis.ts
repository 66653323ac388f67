import type { ParentInfo } from "../catalog/types.ts";
import type { RangeIntegerPolicy, RangeTimePolicy } from "../config/schema.ts";
import { UnmanageableTableError } from "../errors.ts";
import { displayName } from "../identifier.ts";
import { integerAxis, integerKeyTypeOf, parseIntegerKey } from "./integer-slots.ts";
import type { RangeAxis } from "./range-axis.ts";
import type { RangeKey } from "./range-key.ts";
import { timeAxis, timeKeyTypeOf, type TimeAxis } from "./time-slots.ts";

/**
 * The time axis of a range-time parent (call checkManageable first).
 * @throws UnmanageableTableError when the key is not a time type.
 */
export function timeAxisFor(policy: RangeTimePolicy, parent: ParentInfo): TimeAxis {
  const keyType = timeKeyTypeOf(parent.keyColumns[0]?.type ?? "");
  if (keyType === null) throw new UnmanageableTableError(`${displayName(parent.parent)} has no time partition key`);
  return timeAxis(keyType, policy.interval, policy.timeZone);
}

/**
 * The integer axis of a range-integer parent and its current maximum key (null: empty table).
 * @throws UnmanageableTableError when the key is not an integer type or maxKey is not an integer.
 */
export function integerAxisFor(
  policy: RangeIntegerPolicy,
  parent: ParentInfo,
): { readonly axis: RangeAxis; readonly maxKey: RangeKey | null } {
  const keyType = integerKeyTypeOf(parent.keyColumns[0]?.type ?? "");
  if (keyType === null) throw new UnmanageableTableError(`${displayName(parent.parent)} has no integer partition key`);
  let maxKey: RangeKey | null = null;
  if (parent.maxKey !== null) {
    try {
      maxKey = parseIntegerKey(parent.maxKey);
    } catch (cause) {
      throw new UnmanageableTableError(
        `${displayName(parent.parent)}: max(partition key) "${parent.maxKey}" is not an integer: check the catalog query`,
        { cause },
      );
    }
  }
  return { axis: integerAxis(keyType, policy.step), maxKey };
}
