import type { MoveSpec } from "../../config/schema.ts";
import { quoteIdent, quoteQualified } from "../../db/sql-text.ts";

/**
 * One batch of a recurring move, one statement and so one short transaction: lock at most `$1` rows
 * of the table that match the spec's condition (in key order, skipping rows the application holds
 * locked: FOR UPDATE re-checks the condition on a row updated meanwhile), delete them and insert
 * them into the target. A crash rolls back both halves, so a row is always in exactly one of the
 * two tables and a rerun needs no bookkeeping. Returns `moved` and `inserted` (rows); they are
 * equal unless something is wrong, and then the caller rolls the batch back.
 */
export function moveBatchSql(spec: Pick<MoveSpec, "table" | "target" | "key" | "where">, columns: ReadonlyArray<string>): string {
  const key = quoteIdent(spec.key);
  const list = columns.map(quoteIdent).join(", ");
  return [
    `with picked as (`,
    `  select ${key} from ${quoteQualified(spec.table)} where (${spec.where}) order by ${key} limit $1 for update skip locked`,
    `), moved as (`,
    `  delete from ${quoteQualified(spec.table)} s using picked p where s.${key} = p.${key} returning s.*`,
    `), inserted as (`,
    `  insert into ${quoteQualified(spec.target)} (${list}) overriding system value select ${list} from moved returning 1`,
    `)`,
    `select (select count(*) from moved)::int8 as moved, (select count(*) from inserted)::int8 as inserted`,
  ].join("\n");
}

/** The lowest value of the target's partition key among the rows still to move (their partitions are created first). */
export function lowestToMoveSql(spec: Pick<MoveSpec, "table" | "where">, keyColumn: string): string {
  return `select min(${quoteIdent(keyColumn)}) from ${quoteQualified(spec.table)} where (${spec.where})`;
}
