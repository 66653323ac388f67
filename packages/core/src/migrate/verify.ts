import type { Sql } from "../db/client.ts";
import { quoteQualified } from "../db/sql-text.ts";
import type { QualifiedName } from "../identifier.ts";
import { capturedKeyCondition, type Capture } from "./capture.ts";
import { keyColumnList, keyParams, keyRow, keyTextArray, type KeyColumn } from "./key-sql.ts";

/**
 * Verification before a swap (DESIGN rule 10): source and copy are compared range by range of the
 * primary key, each range inside one REPEATABLE READ snapshot: row count and the sum of a 60-bit
 * hash of each row's text (md5 of `t::text`; the copy has the same columns in the same order, so
 * equal rows have equal text). Keys with a captured change not yet drained are left out on both
 * sides, within the same snapshot: the drain will re-copy them, and every other key must already be
 * equal. Ranges are walked on the source; the last one is open above, so rows of the copy beyond
 * the source's keys are counted too. One short transaction per range, never one long one.
 */

export interface VerifyTarget {
  readonly source: QualifiedName;
  readonly target: QualifiedName;
  readonly keys: ReadonlyArray<KeyColumn>;
  readonly capture: Capture;
}

/** One compared range: keys `(from, to]` (null: unbounded), as text. */
export interface RangeComparison {
  readonly from: ReadonlyArray<string> | null;
  readonly to: ReadonlyArray<string> | null;
  readonly sourceRows: number;
  readonly targetRows: number;
  readonly equal: boolean;
  /** Transform migrations: the check that differed and both sides' rows (JSON). */
  readonly check?: string;
  readonly source?: string;
  readonly target?: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  /** False when the deadline stopped it before the last range; `next` is where to continue. */
  readonly complete: boolean;
  /** Upper key of the last range compared (continue after it); null when complete or nothing was compared. */
  readonly next: ReadonlyArray<string> | null;
  readonly ranges: number;
  /** Rows compared (source side, rows). */
  readonly rows: number;
  /** The first differing ranges (at most `MAX_REPORTED`), in key order. */
  readonly differing: ReadonlyArray<RangeComparison>;
  readonly durationMs: number;
}

/** Differing ranges a result lists. */
export const MAX_REPORTED = 5;

/** Rows per compared range. */
export const VERIFY_RANGE_ROWS = 50_000;

/** The condition `(from, to]` on alias `t` with the bind parameters it needs, from `$1`. */
function rangeCondition(keys: ReadonlyArray<KeyColumn>, from: ReadonlyArray<string> | null, to: ReadonlyArray<string> | null) {
  const parts: string[] = [];
  const values: string[] = [];
  if (from) {
    parts.push(`${keyRow(keys, "t")} > ${keyParams(keys, values.length + 1)}`);
    values.push(...from);
  }
  if (to) {
    parts.push(`${keyRow(keys, "t")} <= ${keyParams(keys, values.length + 1)}`);
    values.push(...to);
  }
  return { condition: parts.length ? parts.join(" and ") : "true", values };
}

/** The source key `rows` rows after `from` (the end of the next range), or null when fewer rows remain. */
async function rangeEnd(sql: Sql, v: VerifyTarget, from: ReadonlyArray<string> | null, rows: number): Promise<string[] | null> {
  const { condition, values } = rangeCondition(v.keys, from, null);
  const [row] = await sql.unsafe<{ last: string[] }[]>(
    `select ${keyTextArray(v.keys, "t.")} as last from ${quoteQualified(v.source)} t where ${condition} ` +
      `order by ${keyColumnList(v.keys, "t.")} offset ${rows - 1} limit 1`,
    values,
  );
  return row?.last ?? null;
}

/** Count and digest of one side over `(from, to]`, skipping captured keys. */
function sideSql(relation: QualifiedName, v: VerifyTarget, condition: string): string {
  return (
    `select count(*)::int8 as rows, coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::int8), 0)::text as digest ` +
    `from ${quoteQualified(relation)} t where ${condition} and not ${capturedKeyCondition(v.capture, "t")}`
  );
}

export interface VerifyOptions {
  /** Continue after this key (a previous run's `next`); null: from the lowest key. */
  readonly from: ReadonlyArray<string> | null;
  /** Epoch ms after which no new range starts. */
  readonly deadline: number;
  /** Rows per range (tests use small ones). */
  readonly rangeRows?: number;
}

/**
 * Compares source and copy range by range, from `options.from` until the last range or the
 * deadline. Never throws for a difference: the result lists the first MAX_REPORTED differing
 * ranges. Ranges compared equal stay valid across runs: every
 * later change to them is captured and drained before the swap.
 */
export async function verifyCopy(sql: Sql, v: VerifyTarget, options: VerifyOptions): Promise<VerifyResult> {
  const started = Date.now();
  const rangeRows = options.rangeRows ?? VERIFY_RANGE_ROWS;
  const differing: RangeComparison[] = [];
  let from = options.from;
  let ranges = 0;
  let rows = 0;
  for (;;) {
    if (ranges > 0 && Date.now() > options.deadline) {
      return { ok: true, complete: false, next: from, ranges, rows, differing, durationMs: Date.now() - started };
    }
    const to = await rangeEnd(sql, v, from, rangeRows);
    const { condition, values } = rangeCondition(v.keys, from, to);
    const [source, target] = await sql.begin("isolation level repeatable read read only", async (tx) => {
      const s = await tx.unsafe<{ rows: string; digest: string }[]>(sideSql(v.source, v, condition), values);
      const t = await tx.unsafe<{ rows: string; digest: string }[]>(sideSql(v.target, v, condition), values);
      return [s[0]!, t[0]!] as const;
    });
    ranges++;
    rows += Number(source.rows);
    const equal = source.rows === target.rows && source.digest === target.digest;
    if (!equal && differing.length < MAX_REPORTED) {
      differing.push({ from, to, sourceRows: Number(source.rows), targetRows: Number(target.rows), equal });
    }
    if (to === null) break;
    from = to;
  }
  return { ok: differing.length === 0, complete: true, next: null, ranges, rows, differing, durationMs: Date.now() - started };
}

/** `(a, b]` of a range for messages: keys joined with `,`, `-inf`/`+inf` when unbounded. */
export function describeRange(r: Pick<RangeComparison, "from" | "to">): string {
  return `(${r.from ? r.from.join(",") : "-inf"}, ${r.to ? r.to.join(",") : "+inf"}]`;
}
