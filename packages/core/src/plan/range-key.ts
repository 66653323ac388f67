/**
 * Range keys on one exact number line, shared by the time and integer planners:
 * integer keys are the key values; time keys are microseconds (see time-slots.ts).
 * `MINVALUE` / `MAXVALUE` map to sentinels beyond every real key, so comparisons stay plain `<`.
 */
export type RangeKey = bigint;

/** Stands for `MINVALUE` (and `-infinity`): below every key. */
export const MIN_KEY: RangeKey = -(2n ** 96n);
/** Stands for `MAXVALUE` (and `infinity`): above every key. */
export const MAX_KEY: RangeKey = 2n ** 96n;

export function isFiniteKey(key: RangeKey): boolean {
  return key > MIN_KEY && key < MAX_KEY;
}

/** Maps `MINVALUE` / `MAXVALUE` (any case) to the sentinels, else null. */
export function parseRangeKeyword(literal: string): RangeKey | null {
  const upper = literal.trim().toUpperCase();
  if (upper === "MINVALUE") return MIN_KEY;
  if (upper === "MAXVALUE") return MAX_KEY;
  return null;
}

/** Division rounding toward minus infinity (BigInt `/` truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

export function greaterKey(a: RangeKey, b: RangeKey): RangeKey {
  return a > b ? a : b;
}

export function lesserKey(a: RangeKey, b: RangeKey): RangeKey {
  return a < b ? a : b;
}
