import type { RangeKey } from "./range-key.ts";

/**
 * How one range strategy lays its slots (one interval or step wide) on the key line, and how keys
 * are read from and written to bound literals. Implemented by `timeAxis` (time-slots.ts) and
 * `integerAxis` (integer-slots.ts); consumed by `planRangePieces` (plan-range-pieces.ts).
 */
export interface RangeAxis {
  /** Key of a catalog bound literal; `MINVALUE`/`MAXVALUE` give the sentinels. Throws when unreadable. */
  parse(literal: string): RangeKey;
  /** Bound literal for a key, as it goes into `FOR VALUES FROM (..) TO (..)` and into actions. */
  render(key: RangeKey): string;
  /** Start of the slot containing a finite key. */
  slotOf(key: RangeKey): RangeKey;
  /** Start of the slot after the one starting at `slotStart`. */
  nextSlot(slotStart: RangeKey): RangeKey;
  /** Name suffix of a whole slot, e.g. `_p2024_01`, `_p1000`. */
  alignedSuffix(slotStart: RangeKey): string;
  /** Name suffix of a piece of a slot, from its lower bound, e.g. `_p20240115_120000`. */
  unalignedSuffix(lower: RangeKey): string;
  /** Slots starting above this key are never planned (the key type's maximum), or MAX_KEY. */
  readonly lastSlotStart: RangeKey;
}
