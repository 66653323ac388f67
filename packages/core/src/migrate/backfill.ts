import { literal, quoteIdent, quoteQualified } from "../db/sql-text.ts";
import type { QualifiedName } from "../identifier.ts";
import { keyColumnList, keyParams, keyRow, keyTextArray, type KeyColumn } from "./key-sql.ts";

/**
 * Keyset backfill: each batch copies the next rows of the source in primary-key order, after the
 * watermark and up to the boundary, into the copy, doing nothing for a row that is already there
 * (a key a drain already copied stays as the drain wrote it: the drain read a newer state). One
 * statement, one snapshot, one short transaction; the source is only read (ACCESS SHARE), no row
 * of it is locked.
 *
 * "Already there" is decided by an anti-join, not by `ON CONFLICT DO NOTHING`, when the copy's only
 * unique index is its primary key: speculative insertion (a lock, an index probe and an extra WAL
 * record per row) made batches about 45 % slower than plain inserts (docs/figures.md, migration
 * backfill). Above the watermark the copy holds only rows drained from the capture, so the anti-join
 * reads those few. It equals `ON CONFLICT DO NOTHING` because the backfill is the copy's only writer
 * while it runs (drains run between batches, under the same advisory lock); were another writer to
 * insert the same key meanwhile, the batch would fail with a unique violation and be retried, never
 * copy a row twice. A source key already in the copy is skipped even if its partition key differs
 * (the copy's primary key is the source's plus the partition key): that row changed after the drain
 * copied it, so its change is captured and the next drain copies its current state.
 *
 * When the copy has other unique indexes (unique constraints that include the partition key), a
 * batch row may collide there with a drained row that changed since; the batch then takes
 * `ON CONFLICT DO NOTHING` as before. The statement checks `pg_index` itself, so both forms are
 * one statement and the choice follows the copy's indexes as they are.
 */

export interface Backfill {
  readonly source: QualifiedName;
  readonly target: QualifiedName;
  /** The source's primary key, in key order. */
  readonly keys: ReadonlyArray<KeyColumn>;
  /** Columns written (every column but generated ones), in table order. */
  readonly columns: ReadonlyArray<string>;
}

/** Key types whose `max()` is the last key in key order: the batch's last key costs no sort. */
const MAX_KEY_TYPES: ReadonlySet<string> = new Set(["smallint", "integer", "bigint"]);

/**
 * The batch statement: binds `watermark` keys (when `afterWatermark`), then the boundary keys, then
 * the batch size. Returns one row: `rows` read (rows), `inserted` (rows), `last` (the last key read,
 * as text, the next watermark; null when the batch was empty). Of its two inserts, `copied` runs
 * when the copy's only unique index is its primary key and `guarded` otherwise (the other inserts
 * no row).
 */
export function backfillBatchSql(b: Backfill, afterWatermark: boolean): string {
  const key = (alias: string) => keyRow(b.keys, alias);
  const n = b.keys.length;
  const inRange = (alias: string) => `${afterWatermark ? `${key(alias)} > ${keyParams(b.keys, 1)} and ` : ""}${key(alias)} <= ${keyParams(b.keys, afterWatermark ? n + 1 : 1)}`;
  const limitAt = (afterWatermark ? 2 : 1) * n + 1;
  const target = quoteQualified(b.target);
  const columns = b.columns.map(quoteIdent).join(", ");
  const order = keyColumnList(b.keys);
  const orderDesc = b.keys.map((k) => `${quoteIdent(k.name)} desc`).join(", ");
  // One pass over the batch counts it and, for an integer key, finds its last key; other keys sort for it.
  const last =
    b.keys.length === 1 && MAX_KEY_TYPES.has(b.keys[0]!.type)
      ? `case when count(*) = 0 then null else array[max(${quoteIdent(b.keys[0]!.name)})::text] end`
      : `(select ${keyTextArray(b.keys)} from batch order by ${orderDesc} limit 1)`;
  const sameKey = b.keys.map((k) => `t.${quoteIdent(k.name)} = b.${quoteIdent(k.name)}`).join(" and ");
  return [
    `with batch as (`,
    `  select ${b.columns.map((c) => `s.${quoteIdent(c)}`).join(", ")} from ${quoteQualified(b.source)} s`,
    `  where ${inRange("s")}`,
    `  order by ${keyColumnList(b.keys, "s.")} limit $${limitAt}`,
    `), other_unique as (`,
    `  select exists (select 1 from pg_catalog.pg_index where indrelid = ${literal(target)}::regclass and indisunique and not indisprimary) as found`,
    `), copied as (`,
    `  insert into ${target} (${columns}) overriding system value`,
    `  select ${columns} from batch b where not (select found from other_unique)`,
    `    and not exists (select 1 from ${target} t where ${inRange("t")} and ${sameKey})`,
    `  order by ${order} returning 1`,
    `), guarded as (`,
    `  insert into ${target} (${columns}) overriding system value`,
    `  select ${columns} from batch where (select found from other_unique) order by ${order} on conflict do nothing returning 1`,
    `)`,
    `select count(*)::int8 as rows, ((select count(*) from copied) + (select count(*) from guarded))::int8 as inserted,`,
    `       ${last} as last from batch`,
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
