import { createHash } from "node:crypto";
import { MAX_IDENTIFIER_BYTES, displayName, qualifiedName, type QualifiedName } from "../identifier.ts";

/** Bytes of the `_<6 hex>` marker added when a parent name is shortened. */
const HASH_MARKER_BYTES = 7;

/**
 * Name of a new partition of `parent`: `<parent name><suffix>` in the parent's schema.
 *
 * When that is longer than 63 bytes (UTF-8, Postgres NAMEDATALEN - 1), the parent part is cut to fit
 * (never inside a multi-byte character) and `_<first 6 hex of sha256(parent name)>` is put before the
 * suffix, so two long parents sharing a prefix never get the same partition names and the suffix is
 * always kept whole (DESIGN rule 5; pg_partman issues #592, #821).
 *
 * Examples: (`events`, `_p2024_01`) -> `events_p2024_01`;
 * a 70-byte `very_long…` parent with `_p2024_01` -> `very_long…(47 bytes)_1a2b3c_p2024_01` (63 bytes).
 *
 * @param suffix e.g. `_p2024_01`, `_p2024w05`, `_pm1000`, `_p_eu`, `_default` (see suffix helpers).
 * @param taken names (without schema) already used by partitions of this parent or earlier in the plan.
 * @throws Error when the result is in `taken` (should not happen: suffixes are unique per bound) or
 *   when the suffix alone leaves no room for the parent part.
 */
export function partitionName(parent: QualifiedName, suffix: string, taken: ReadonlySet<string>): QualifiedName {
  let name = parent.name + suffix;
  if (utf8Bytes(name) > MAX_IDENTIFIER_BYTES) {
    const budget = MAX_IDENTIFIER_BYTES - utf8Bytes(suffix) - HASH_MARKER_BYTES;
    if (budget < 1) {
      throw new Error(
        `partition suffix "${suffix}" of ${displayName(parent)} is ${utf8Bytes(suffix)} bytes: it leaves no room for the parent name within ${MAX_IDENTIFIER_BYTES} bytes`,
      );
    }
    name = `${truncateUtf8(parent.name, budget)}_${shortHash(parent.name)}${suffix}`;
  }
  if (taken.has(name)) {
    throw new Error(
      `partition name ${parent.schema}.${name} for ${displayName(parent)} is already taken by another partition: rename that partition or report this as a partkeeper bug`,
    );
  }
  return qualifiedName(parent.schema, name);
}

/** UTF-8 length in bytes. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** The longest prefix of `text` (whole code points) that fits in `maxBytes` UTF-8 bytes. */
export function truncateUtf8(text: string, maxBytes: number): string {
  let out = "";
  let bytes = 0;
  for (const ch of text) {
    const n = utf8Bytes(ch);
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** First 6 hex digits of sha256(text): a stable disambiguator for shortened names. */
export function shortHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, 6);
}
