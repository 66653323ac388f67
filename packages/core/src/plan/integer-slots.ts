import type { RangeAxis } from "./range-axis.ts";
import { floorDiv, parseRangeKeyword, type RangeKey } from "./range-key.ts";

/** Integer key types partkeeper manages, with their value ranges (Postgres docs, "Integer Types"). */
export const INTEGER_KEY_TYPES = {
  smallint: { min: -(2n ** 15n), max: 2n ** 15n - 1n },
  integer: { min: -(2n ** 31n), max: 2n ** 31n - 1n },
  bigint: { min: -(2n ** 63n), max: 2n ** 63n - 1n },
} as const;
export type IntegerKeyType = keyof typeof INTEGER_KEY_TYPES;

/** `smallint`, `integer`, `bigint` (also `int2/int4/int8`, `int`) -> the key type; else null. */
export function integerKeyTypeOf(formatType: string): IntegerKeyType | null {
  switch (formatType.trim().toLowerCase()) {
    case "smallint":
    case "int2":
      return "smallint";
    case "integer":
    case "int":
    case "int4":
      return "integer";
    case "bigint":
    case "int8":
      return "bigint";
    default:
      return null;
  }
}

/**
 * Key of an integer bound literal (`1000`, `-5`, `MINVALUE`, `MAXVALUE`), exact beyond 2^53.
 * @throws Error when the literal is not an integer.
 */
export function parseIntegerKey(literal: string): RangeKey {
  const keyword = parseRangeKeyword(literal);
  if (keyword !== null) return keyword;
  const text = literal.trim();
  if (!/^[+-]?\d+$/.test(text)) throw new Error(`cannot read "${literal}" as an integer bound`);
  return BigInt(text);
}

/** Name suffix of an integer lower bound: `_p1000`, `_p0`, negative `_pm1000`. */
export function integerSuffix(lower: RangeKey): string {
  return lower < 0n ? `_pm${-lower}` : `_p${lower}`;
}

/**
 * The integer axis of a range-integer parent: slots `[k*step, (k+1)*step)`. Bounds outside the key
 * type's range are written `MINVALUE` / `MAXVALUE` (a literal beyond the type would be refused), and
 * no slot starts above the type's maximum.
 */
export function integerAxis(keyType: IntegerKeyType, step: number | bigint): RangeAxis {
  const width = BigInt(step);
  if (width < 1n) throw new Error(`step must be 1 or more, got ${step}`);
  const limits = INTEGER_KEY_TYPES[keyType];
  return {
    lastSlotStart: limits.max,
    parse: parseIntegerKey,
    render: (key) => (key < limits.min ? "MINVALUE" : key > limits.max ? "MAXVALUE" : key.toString()),
    slotOf: (key) => floorDiv(key, width) * width,
    nextSlot: (start) => start + width,
    alignedSuffix: integerSuffix,
    unalignedSuffix: integerSuffix,
  };
}
