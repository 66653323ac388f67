import type { ParentInfo } from "../catalog/types.ts";
import type { TablePolicy } from "../config/schema.ts";
import type { Action } from "../plan/actions.ts";
import { integerAxisFor, timeAxisFor } from "../plan/policy-axis.ts";
import type { RangeAxis } from "../plan/range-axis.ts";
import type { RangeKey } from "../plan/range-key.ts";

/**
 * How many range partitions lie wholly ahead of the current slot once `actions` are applied:
 * the figure the "partitions ahead below premake" alarm watches. Time: ahead of now in the table's
 * zone; integer: ahead of max(key). Null for list and hash parents, where "ahead" has no meaning.
 */
export function partitionsAhead(policy: TablePolicy, parent: ParentInfo, actions: ReadonlyArray<Action>, now: Date): number | null {
  let axis: RangeAxis;
  let current: RangeKey;
  if (policy.strategy === "range-time") {
    const time = timeAxisFor(policy, parent);
    axis = time;
    current = time.slotOf(time.nowKey(now));
  } else if (policy.strategy === "range-integer") {
    const integer = integerAxisFor(policy, parent);
    axis = integer.axis;
    current = axis.slotOf(integer.maxKey ?? 0n);
  } else {
    return null;
  }
  const lowers = [
    ...parent.partitions.flatMap((p) => (p.bounds.kind === "range" ? [p.bounds.from] : [])),
    ...actions.flatMap((a) => (a.kind === "create-partition" && a.bounds.kind === "range" ? [a.bounds.from] : [])),
  ];
  return lowers.filter((from) => from !== "MINVALUE" && axis.parse(from) > current).length;
}
