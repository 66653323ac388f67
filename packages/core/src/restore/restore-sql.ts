import { quoteIdent, quoteQualified } from "../db/sql-text.ts";
import { MAX_IDENTIFIER_BYTES, type QualifiedName } from "../identifier.ts";
import { partitionName, utf8Bytes } from "../plan/partition-name.ts";
import type { ManifestColumn } from "../archive/manifest.ts";

/**
 * Pure SQL generators and naming for restore (restore-partition.ts). No I/O; identifiers are quoted
 * by db/sql-text.ts only (STYLE.md rule 6).
 */

/** Suffix of the default side-table name: `<partition>_restored`. */
export const RESTORED_SUFFIX = "_restored";

/**
 * The default side table of `partition`: `<partition name>_restored` in the partition's schema, kept
 * within 63 bytes the way partition names are (plan/partition-name.ts: the partition part is cut and
 * `_<6 hex of its sha256>` added before the suffix, so two long names never collide).
 * Example: `events_p2025_01` -> `events_p2025_01_restored`.
 */
export function defaultRestoreTarget(partition: QualifiedName): QualifiedName {
  return partitionName(partition, RESTORED_SUFFIX, new Set());
}

/**
 * Null when `name` is usable as a table name (not empty, at most 63 bytes, no NUL), else the reason
 * it is not (Postgres would silently truncate a longer name).
 */
export function checkTableName(name: string): string | null {
  if (name === "") return "must not be empty";
  if (name.includes("\0")) return "must not contain a NUL character";
  if (utf8Bytes(name) > MAX_IDENTIFIER_BYTES) return `is ${utf8Bytes(name)} bytes; Postgres keeps at most ${MAX_IDENTIFIER_BYTES} (NAMEDATALEN - 1)`;
  return null;
}

/**
 * `CREATE TABLE "s"."t" ("id" bigint, "amount" numeric(12,2), ...)` from the manifest's columns, for a
 * side table whose parent no longer exists (or no longer has the archived columns). `pgType` is
 * `format_type()` text; restore-partition.ts checks each with `to_regtype` before this SQL runs.
 */
export function createFromManifestSql(target: QualifiedName, columns: ReadonlyArray<ManifestColumn>): string {
  return `CREATE TABLE ${quoteQualified(target)} (${columns.map((c) => `${quoteIdent(c.name)} ${c.pgType}`).join(", ")})`;
}

/**
 * The dry-run line standing for a COPY: `-- load 1234 rows from s3://bucket/prefix/.../data.parquet into "s"."t"`.
 * Newlines in the URL (possible in a key) are escaped so the comment stays one line.
 */
export function loadCommentSql(rows: number, url: string, target: QualifiedName): string {
  return `-- load ${rows} rows from ${url.replaceAll("\n", "\\n").replaceAll("\r", "\\r")} into ${quoteQualified(target)}`;
}

/**
 * A manifest's bound clause must be exactly what Postgres prints for a partition bound
 * (`FOR VALUES ...` or `DEFAULT`) and nothing after it, since it is spliced into the ATTACH statement.
 * Returns the reason when it is not.
 */
export function checkBoundExpression(boundExpression: string): string | null {
  if (!/^(FOR VALUES (FROM|IN|WITH) \(|DEFAULT$)/.test(boundExpression)) return "does not start with FOR VALUES FROM/IN/WITH or DEFAULT";
  const outsideQuotes = boundExpression.replace(/'(?:[^']|'')*'/g, "''");
  if (outsideQuotes.includes(";")) return "contains a ';' outside a quoted value";
  if (/--|\/\*/.test(outsideQuotes)) return "contains a comment outside a quoted value";
  return null;
}
