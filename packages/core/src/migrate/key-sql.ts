import { quoteIdent } from "../db/sql-text.ts";

/**
 * SQL fragments over a primary key, shared by capture, backfill, verification and the swap. A key
 * is compared as a row, `(a, b) > ($1::int, $2::bigint)`, which Postgres evaluates in key order and
 * answers from the primary-key index; keys travel as text arrays (watermark, boundary, ranges).
 */

/** A key column: its name and `format_type` text (casts of bind parameters). */
export interface KeyColumn {
  readonly name: string;
  readonly type: string;
}

/** `"a", "b"`, or with a prefix `t."a", t."b"` (select lists, ORDER BY). */
export function keyColumnList(keys: ReadonlyArray<KeyColumn>, prefix = ""): string {
  return keys.map((k) => `${prefix}${quoteIdent(k.name)}`).join(", ");
}

/** `(t."a", t."b")`: the key of alias `t` as a row. */
export function keyRow(keys: ReadonlyArray<KeyColumn>, alias: string): string {
  return `(${keyColumnList(keys, `${alias}.`)})`;
}

/** `($1::integer, $2::bigint)`: bind parameters from `$first`, each cast to its key column's type. */
export function keyParams(keys: ReadonlyArray<KeyColumn>, first: number): string {
  return `(${keys.map((k, i) => `$${first + i}::${k.type}`).join(", ")})`;
}

/** `array["a"::text, "b"::text]` (with a prefix, `t."a"`): the key as the text array partkeeper stores. */
export function keyTextArray(keys: ReadonlyArray<KeyColumn>, prefix = ""): string {
  return `array[${keys.map((k) => `${prefix}${quoteIdent(k.name)}::text`).join(", ")}]`;
}
