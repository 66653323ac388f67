import type { PartitionBounds } from "./types.ts";

/**
 * Parses a bound clause as `pg_get_expr(relpartbound, oid)` prints it (Postgres docs, CREATE TABLE
 * "partition_bound_spec"):
 * - `FOR VALUES FROM ('2024-01-01 00:00:00+00') TO (MAXVALUE)` -> range
 * - `FOR VALUES IN ('a', NULL, 3)` -> list (values as text, NULL as null)
 * - `FOR VALUES WITH (modulus 16, remainder 3)` -> hash
 * - `DEFAULT` -> default
 * Throws on anything else, or on multi-column range bounds (partkeeper manages single-column keys).
 */
export function parseBounds(expression: string): PartitionBounds {
  const text = expression.trim();
  if (text === "DEFAULT") return { kind: "default" };
  const hash = /^FOR VALUES WITH \(modulus (\d+), remainder (\d+)\)$/.exec(text);
  if (hash) return { kind: "hash", modulus: Number(hash[1]), remainder: Number(hash[2]) };
  const list = /^FOR VALUES IN \((.*)\)$/s.exec(text);
  if (list) return { kind: "list", values: parseLiteralList(list[1]!) };
  const range = /^FOR VALUES FROM \((.*)\) TO \((.*)\)$/s.exec(text);
  if (range) {
    const from = parseLiteralList(range[1]!);
    const to = parseLiteralList(range[2]!);
    if (from.length !== 1 || to.length !== 1) throw new Error(`multi-column range bounds are not supported: ${text}`);
    return { kind: "range", from: from[0] ?? "NULL", to: to[0] ?? "NULL" };
  }
  throw new Error(`unrecognised partition bound: ${text}`);
}

/**
 * Splits `'a', 'it''s', 3, NULL, '-5'::integer, MINVALUE` into `["a", "it's", "3", null, "-5", "MINVALUE"]`.
 * Quoted literals may carry a `::type` suffix, which is dropped.
 */
export function parseLiteralList(text: string): Array<string | null> {
  const values: Array<string | null> = [];
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  while (i < text.length) {
    skipSpace();
    if (text[i] === "'") {
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`unterminated literal in bound: ${text}`);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      const cast = /^::[^,]+/.exec(text.slice(i));
      if (cast) i += cast[0].length;
      values.push(value);
    } else {
      const token = /^[^,\s]+/.exec(text.slice(i));
      if (!token) throw new Error(`unrecognised literal in bound: ${text}`);
      i += token[0].length;
      values.push(token[0] === "NULL" ? null : token[0]);
    }
    skipSpace();
    if (i < text.length) {
      if (text[i] !== ",") throw new Error(`unrecognised literal list in bound: ${text}`);
      i++;
    }
  }
  return values;
}
