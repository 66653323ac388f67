import { createHash } from "node:crypto";
import { literal, quoteIdent, quoteQualified } from "../db/sql-text.ts";
import { MAX_IDENTIFIER_BYTES, qualifiedName, type QualifiedName } from "../identifier.ts";
import { keyColumnList, keyRow, type KeyColumn } from "./key-sql.ts";

/**
 * Change capture (DESIGN rule 10; pg-osc's audit table, GitLab's sync trigger): a row trigger on the
 * watched table appends the primary key of every inserted, updated or deleted row to a capture
 * table; a drain re-copies those keys from the watched table into the copy, whole rows, whatever
 * happened to them in between (a key deleted since is deleted from the copy). Because a drain reads
 * the rows' current state, replays are idempotent and their order does not matter, and a key
 * captured again after a drain is simply drained again.
 *
 * `forward` watches the source while it is copied; `reverse` watches the new table after the swap
 * and keeps the retired one current, so a rollback loses no write. TRUNCATE, which row triggers do
 * not see, is refused on a watched table for as long as the capture is installed.
 */

export type CaptureDirection = "forward" | "reverse";

export interface Capture {
  /** The migration's id: names the capture table, function and triggers. */
  readonly id: string;
  readonly direction: CaptureDirection;
  /** The table whose writes are captured. */
  readonly watched: QualifiedName;
  /** The watched table's primary key (the source's, in both directions). */
  readonly keys: ReadonlyArray<KeyColumn>;
}

/** Schema of partkeeper's own objects. */
const SCHEMA = "partkeeper";

/** `partkeeper."<id>.<direction>"`: the capture table; the trigger function has the same name. */
export function captureTable(capture: Pick<Capture, "id" | "direction">): QualifiedName {
  return qualifiedName(SCHEMA, `${capture.id}.${capture.direction}`);
}

/**
 * Trigger names on the watched table (a trigger name is per table): `partkeeper_<id>_<direction>`
 * and the same with `_truncate`, cut to 63 bytes as Postgres would cut them (ids are ASCII). For
 * ids of 44 or more characters (ids may have 48) the cut made both names one and the second CREATE
 * TRIGGER failed: those are named after the id's first 24 characters and a hash of the whole id,
 * which keeps both names within 63 bytes and apart from every other id's.
 */
export function triggerNames(capture: Pick<Capture, "id" | "direction">): { rows: string; truncate: string } {
  const cut = (name: string) => name.slice(0, MAX_IDENTIFIER_BYTES);
  const base = `partkeeper_${capture.id}_${capture.direction}`;
  if (cut(base) !== cut(`${base}_truncate`)) return { rows: cut(base), truncate: cut(`${base}_truncate`) };
  const hash = createHash("sha256").update(capture.id).digest("hex").slice(0, 8);
  const short = `partkeeper_${capture.id.slice(0, 24)}_${hash}_${capture.direction}`;
  return { rows: short, truncate: `${short}_truncate` };
}

/** The capture table and its trigger function (no trigger yet: see installCaptureTriggerSql). */
export function createCaptureSql(capture: Capture): string[] {
  const table = quoteQualified(captureTable(capture));
  const columns = capture.keys.map((k) => `${quoteIdent(k.name)} ${k.type} not null`).join(", ");
  const insert = (row: "new" | "old") => `insert into ${table} (${keyColumnList(capture.keys)}) values (${keyColumnList(capture.keys, `${row}.`)});`;
  const sameKey = capture.keys.map((k) => `old.${quoteIdent(k.name)} is not distinct from new.${quoteIdent(k.name)}`).join(" and ");
  const message = `${capture.watched.schema}.${capture.watched.name} is being migrated by partkeeper (migration ${capture.id}): TRUNCATE is refused while partkeeper captures its changes (until the migration is finalized)`;
  const body = [
    "begin",
    "  if tg_op = 'TRUNCATE' then",
    `    raise exception using errcode = 'object_not_in_prerequisite_state', message = ${literal(message)};`,
    "  end if;",
    `  if tg_op = 'DELETE' or (tg_op = 'UPDATE' and not (${sameKey})) then ${insert("old")} end if;`,
    `  if tg_op in ('INSERT', 'UPDATE') then ${insert("new")} end if;`,
    "  return null;",
    "end",
  ].join("\n");
  const delimiter = "$partkeeper_capture$";
  if (body.includes(delimiter)) throw new Error(`capture of ${capture.id}: a column name contains ${delimiter}`);
  return [
    `create table ${table} (capture_id bigint generated always as identity primary key, ${columns})`,
    `create function ${table}() returns trigger language plpgsql as ${delimiter}\n${body}\n${delimiter}`,
  ];
}

/**
 * Installs the triggers on the watched table. CREATE TRIGGER takes SHARE ROW EXCLUSIVE on it, so
 * once these statements hold their lock no write to it is in flight: a key read in the same
 * transaction (the backfill boundary) is exact (pgroll #583). `ENABLE ALWAYS` keeps capturing
 * under `session_replication_role = replica` (logical replication apply, pg_restore).
 */
export function installCaptureTriggerSql(capture: Capture): string[] {
  const watched = quoteQualified(capture.watched);
  const fn = quoteQualified(captureTable(capture));
  const names = triggerNames(capture);
  return [
    `create trigger ${quoteIdent(names.rows)} after insert or update or delete on ${watched} for each row execute function ${fn}()`,
    `create trigger ${quoteIdent(names.truncate)} before truncate on ${watched} for each statement execute function ${fn}()`,
    `alter table ${watched} enable always trigger ${quoteIdent(names.rows)}`,
    `alter table ${watched} enable always trigger ${quoteIdent(names.truncate)}`,
  ];
}

/** Removes the triggers from `watched` (the watched table's current name, which a swap changes). */
export function dropCaptureTriggerSql(capture: Capture, watched: QualifiedName = capture.watched): string[] {
  const names = triggerNames(capture);
  return [
    `drop trigger if exists ${quoteIdent(names.rows)} on ${quoteQualified(watched)}`,
    `drop trigger if exists ${quoteIdent(names.truncate)} on ${quoteQualified(watched)}`,
  ];
}

/** Drops the capture table and function (after its triggers). */
export function dropCaptureSql(capture: Pick<Capture, "id" | "direction">): string[] {
  const table = quoteQualified(captureTable(capture));
  return [`drop function if exists ${table}()`, `drop table if exists ${table}`];
}

/** What a drain copies: keys captured on `from`, whole rows re-copied into `to`. */
export interface Drain {
  readonly capture: Capture;
  /** Where current rows are read (the watched table's name at drain time). */
  readonly from: QualifiedName;
  /** Where they are written. */
  readonly to: QualifiedName;
  /** Columns written (every column but generated ones), in table order. */
  readonly columns: ReadonlyArray<string>;
}

/**
 * The three statements of one drain of at most `limit` captured changes (null: all of them):
 * delete the captured keys from `to`, insert their current rows from `from`, delete the drained
 * capture rows. Each statement picks the same capture rows only when all three see one snapshot:
 * run them in a REPEATABLE READ transaction, or (a swap) in any transaction holding a lock that
 * excludes every writer of the watched table. Row counts: [deleted, inserted, drained].
 */
export function drainSql(drain: Drain, limit: number | null): string[] {
  const table = quoteQualified(captureTable(drain.capture));
  const keys = drain.capture.keys;
  const picked =
    limit === null
      ? `select ${keyColumnList(keys)} from ${table}`
      : `select ${keyColumnList(keys)} from ${table} where capture_id in (select capture_id from ${table} order by capture_id limit ${Math.trunc(limit)})`;
  // `= any(array(...))` on the key's first column is evaluated once and probes the primary-key index
  // of every partition; a join on the captured keys was planned as a scan of the whole copy (200+ ms
  // for 800 keys on 1 M rows, inside the swap's lock). A composite key adds `(key) in (...)`, a
  // hashed subplan evaluated once too (a correlated EXISTS over the LIMITed pick ran once per row).
  const first = quoteIdent(keys[0]!.name);
  const rows = (alias: string) =>
    `${alias}.${first} = any(array(select ${first} from (${picked}) p))` +
    (keys.length > 1 ? ` and ${keyRow(keys, alias)} in (select ${keyColumnList(keys)} from (${picked}) c)` : "");
  const columns = drain.columns.map(quoteIdent).join(", ");
  const consumed =
    limit === null
      ? `delete from ${table}`
      : `delete from ${table} where capture_id in (select capture_id from ${table} order by capture_id limit ${Math.trunc(limit)})`;
  return [
    `delete from ${quoteQualified(drain.to)} t where ${rows("t")}`,
    `insert into ${quoteQualified(drain.to)} (${columns}) overriding system value ` +
      `select ${drain.columns.map((c) => `f.${quoteIdent(c)}`).join(", ")} from ${quoteQualified(drain.from)} f where ${rows("f")}`,
    consumed,
  ];
}

/** `select count(*)` of captured changes not yet drained. */
export function pendingCaptureSql(capture: Pick<Capture, "id" | "direction">): string {
  return `select count(*)::int8 as pending from ${quoteQualified(captureTable(capture))}`;
}

/** A condition true for rows of alias `t` whose key has a captured change not yet drained (verification skips them). */
export function capturedKeyCondition(capture: Capture, alias: string): string {
  const match = capture.keys.map((k) => `c.${quoteIdent(k.name)} = ${alias}.${quoteIdent(k.name)}`).join(" and ");
  return `exists (select 1 from ${quoteQualified(captureTable(capture))} c where ${match})`;
}
