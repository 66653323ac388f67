import { quoteIdent, quoteQualified } from "../db/sql-text.ts";
import type { QualifiedName } from "../identifier.ts";
import type { KeyColumn } from "./capture.ts";

/**
 * Keyset backfill: each batch copies the next rows of the source in primary-key order, after the
 * watermark and up to the boundary, into the copy with `ON CONFLICT DO NOTHING` (a key a drain
 * already copied stays as the drain wrote it: the drain read a newer state). One statement, one
 * snapshot, one short transaction; the source is only read (ACCESS SHARE), no row of it is locked.
 */

export interface Backfill {
  readonly source: QualifiedName;
  readonly target: QualifiedName;
  /** The source's primary key, in key order. */
  readonly keys: ReadonlyArray<KeyColumn>;
  /** Columns written (every column but generated ones), in table order. */
  readonly columns: ReadonlyArray<string>;
}

/** Row (key tuple) of bind parameters `$first..`, each cast to its key column's type. */
function keyParams(keys: ReadonlyArray<KeyColumn>, first: number): string {
  return `(${keys.map((k, i) => `$${first + i}::${k.type}`).join(", ")})`;
}

/**
 * The batch statement: binds `watermark` keys (when `afterWatermark`), then the boundary keys, then
 * the batch size. Returns one row: `rows` read (rows), `inserted` (rows), `last` (the last key read,
 * as text, the next watermark; null when the batch was empty).
 */
export function backfillBatchSql(b: Backfill, afterWatermark: boolean): string {
  const key = `(${b.keys.map((k) => `s.${quoteIdent(k.name)}`).join(", ")})`;
  const n = b.keys.length;
  const lower = afterWatermark ? `${key} > ${keyParams(b.keys, 1)} and ` : "";
  const boundaryAt = afterWatermark ? n + 1 : 1;
  const limitAt = boundaryAt + n;
  const columns = b.columns.map(quoteIdent).join(", ");
  const order = b.keys.map((k) => quoteIdent(k.name)).join(", ");
  const orderDesc = b.keys.map((k) => `${quoteIdent(k.name)} desc`).join(", ");
  const lastKey = `array[${b.keys.map((k) => `${quoteIdent(k.name)}::text`).join(", ")}]`;
  return [
    `with batch as (`,
    `  select ${b.columns.map((c) => `s.${quoteIdent(c)}`).join(", ")} from ${quoteQualified(b.source)} s`,
    `  where ${lower}${key} <= ${keyParams(b.keys, boundaryAt)}`,
    `  order by ${b.keys.map((k) => `s.${quoteIdent(k.name)}`).join(", ")} limit $${limitAt}`,
    `), copied as (`,
    `  insert into ${quoteQualified(b.target)} (${columns}) overriding system value`,
    `  select ${columns} from batch order by ${order} on conflict do nothing returning 1`,
    `)`,
    `select (select count(*) from batch)::int8 as rows, (select count(*) from copied)::int8 as inserted,`,
    `       (select ${lastKey} from batch order by ${orderDesc} limit 1) as last`,
  ].join("\n");
}

/** Smallest batch the sizing goes down to (rows). */
export const MIN_BATCH_ROWS = 100;

/**
 * The next batch size (rows) after a batch of `size` rows took `elapsedMs`: scaled toward
 * `targetMs`, at most doubled or halved per batch so one slow or fast batch does not swing it
 * (GitLab's batched background migrations adjust by a bounded factor in the same way), within
 * [MIN_BATCH_ROWS, maxSize].
 */
export function nextBatchSize(size: number, elapsedMs: number, targetMs: number, maxSize: number): number {
  const factor = Math.min(2, Math.max(0.5, targetMs / Math.max(elapsedMs, 1)));
  return Math.max(Math.min(MIN_BATCH_ROWS, maxSize), Math.min(maxSize, Math.round(size * factor)));
}
