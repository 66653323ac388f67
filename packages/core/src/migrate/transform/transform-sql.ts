import { createHash } from "node:crypto";
import type { TransformSpec } from "../../config/schema.ts";
import { literal, quoteIdent, quoteQualified } from "../../db/sql-text.ts";
import { displayName, MAX_IDENTIFIER_BYTES, qualifiedName, type QualifiedName } from "../../identifier.ts";
import { captureTable, type CaptureDirection } from "../capture.ts";
import { RETIRED_SUFFIX } from "../partition-table/layout.ts";

/**
 * Pure SQL of the transform kind (exact output unit-tested). The spec's own SQL (prepare, the
 * transform, capture mappings, checks, views) is code reviewed like a schema migration and runs as
 * written; partkeeper's identifiers around it are quoted here.
 *
 * - The batch transform becomes `partkeeper."<id>.transform"(keys <type>[])`, a LANGUAGE SQL
 *   function of the spec's statements, so `$1` is the batch's array of driving keys, Postgres
 *   checks every statement when prepare creates it (check_function_bodies), and a drain or the
 *   cutover calls it from plain SQL. The reverse transform is `"<id>.reverse-transform"`.
 * - Capture is by statement-level triggers with transition tables (CREATE TRIGGER ... REFERENCING):
 *   one per event, as a transition table trigger may have only one, each running the table's
 *   mapping over `changed` (the statement's old or new rows) into the capture table
 *   `partkeeper."<id>.<direction>"` (one column: the driving key). One trigger call per statement,
 *   not per row, keeps batched writes cheap.
 */

/** What the SQL builders need: the spec, and the driving key's type (format_type) read at prepare. */
export interface TransformLayout {
  readonly id: string;
  readonly driving: QualifiedName;
  readonly key: string;
  readonly keyType: string;
  /** Captured tables per direction with their mappings, in spec order. */
  readonly capture: { readonly [D in CaptureDirection]: ReadonlyArray<{ readonly table: QualifiedName; readonly drivingKeys: string }> };
  readonly retire: ReadonlyArray<QualifiedName>;
}

export function transformLayout(spec: TransformSpec, keyType: string): TransformLayout {
  return {
    id: spec.id,
    driving: spec.table,
    key: spec.key,
    keyType,
    capture: { forward: spec.capture, reverse: spec.reverse?.capture ?? [] },
    retire: spec.cutover.retire,
  };
}

const SCHEMA = "partkeeper";

/** The function applying the spec's transform (forward) or reverse transform to a set of driving keys. */
export function transformFunction(layout: Pick<TransformLayout, "id">, direction: CaptureDirection): QualifiedName {
  return qualifiedName(SCHEMA, `${layout.id}.${direction === "forward" ? "transform" : "reverse-transform"}`);
}

/** The trigger function of the `index`-th captured table of a direction. */
function triggerFunction(layout: Pick<TransformLayout, "id">, direction: CaptureDirection, index: number): QualifiedName {
  return qualifiedName(SCHEMA, `${layout.id}.${direction}.${index}`);
}

/** `<name>_retired`, the old table's name after cutover. */
export function retiredName(table: QualifiedName): QualifiedName {
  return qualifiedName(table.schema, `${table.name}${RETIRED_SUFFIX}`);
}

/** A delimiter for a function body that the body does not contain. */
function dollarQuote(body: string, tag: string): string {
  let delimiter = `$${tag}$`;
  for (let i = 1; body.includes(delimiter); i++) delimiter = `$${tag}${i}$`;
  return `${delimiter}\n${body}\n${delimiter}`;
}

/**
 * `create or replace function partkeeper."<id>.transform"(<type>[]) ... language sql`: the spec's
 * statements, `$1` the keys. Postgres checks the statements against the tables as they are when it
 * runs: the forward one at prepare, the reverse one (it writes `<name>_retired`) at cutover.
 */
export function createTransformFunctionSql(layout: TransformLayout, direction: CaptureDirection, statements: ReadonlyArray<string>): string {
  const body = statements.map((s) => s.replace(/;\s*$/, "")).join(";\n");
  return `create or replace function ${quoteQualified(transformFunction(layout, direction))}(${layout.keyType}[]) returns void language sql as ${dollarQuote(body, "partkeeper_transform")}`;
}

/**
 * Trigger names on a captured table (a trigger name is per table): `partkeeper_<id>_<direction>_<event>`;
 * for ids too long for 63 bytes, the id's first 24 characters and a hash of the whole id.
 */
export function transitionTriggerNames(layout: Pick<TransformLayout, "id">, direction: CaptureDirection) {
  let base = `partkeeper_${layout.id}_${direction}`;
  if (Buffer.byteLength(`${base}_truncate`) > MAX_IDENTIFIER_BYTES) {
    base = `partkeeper_${layout.id.slice(0, 24)}_${createHash("sha256").update(layout.id).digest("hex").slice(0, 8)}_${direction}`;
  }
  return { insert: `${base}_insert`, update: `${base}_update`, delete: `${base}_delete`, truncate: `${base}_truncate` };
}

/** The capture table of a direction and one trigger function per captured table (no trigger yet). */
export function createCaptureSql(layout: TransformLayout, direction: CaptureDirection): string[] {
  const table = quoteQualified(captureTable({ id: layout.id, direction }));
  const key = quoteIdent(layout.key);
  const statements = [`create table ${table} (capture_id bigint generated always as identity primary key, ${key} ${layout.keyType} not null)`];
  layout.capture[direction].forEach((captured, index) => {
    const from = (transition: string) =>
      `insert into ${table} (${key}) select distinct m.k from (with changed as (select * from ${transition}) ${captured.drivingKeys}) m(k) where m.k is not null;`;
    const message = `${displayName(captured.table)} is captured by partkeeper migration ${layout.id}: TRUNCATE is refused while it runs (until it is finalized or rolled back)`;
    const body = [
      "begin",
      "  if tg_op = 'TRUNCATE' then",
      `    raise exception using errcode = 'object_not_in_prerequisite_state', message = ${literal(message)};`,
      "  end if;",
      `  if tg_op in ('INSERT', 'UPDATE') then ${from("partkeeper_new")} end if;`,
      `  if tg_op in ('UPDATE', 'DELETE') then ${from("partkeeper_old")} end if;`,
      "  return null;",
      "end",
    ].join("\n");
    statements.push(`create function ${quoteQualified(triggerFunction(layout, direction, index))}() returns trigger language plpgsql as ${dollarQuote(body, "partkeeper_capture")}`);
  });
  return statements;
}

/**
 * A statement that makes Postgres check each mapping of a direction against its table now (a
 * PL/pgSQL body is checked only when it first runs): the mappings over zero rows.
 */
export function checkMappingsSql(layout: TransformLayout, direction: CaptureDirection): string[] {
  return layout.capture[direction].map(
    (c) => `select count(*) from (with changed as (select * from ${quoteQualified(c.table)} limit 0) ${c.drivingKeys}) m`,
  );
}

/**
 * Installs the triggers of a direction: insert, update and delete (statement level, transition
 * tables) and truncate (refused), each ENABLE ALWAYS so replication replay and pg_restore are
 * captured too. CREATE TRIGGER takes SHARE ROW EXCLUSIVE: no write to the table is in flight once
 * it holds, so a boundary read in the same transaction is exact.
 */
export function installTriggersSql(layout: TransformLayout, direction: CaptureDirection): string[] {
  const names = transitionTriggerNames(layout, direction);
  const lock = lockSql(layout.capture[direction].map((c) => c.table), "share row exclusive");
  return [...lock, ...layout.capture[direction].flatMap((captured, index) => {
    const table = quoteQualified(captured.table);
    const fn = `${quoteQualified(triggerFunction(layout, direction, index))}()`;
    return [
      `create trigger ${quoteIdent(names.insert)} after insert on ${table} referencing new table as partkeeper_new for each statement execute function ${fn}`,
      `create trigger ${quoteIdent(names.update)} after update on ${table} referencing old table as partkeeper_old new table as partkeeper_new for each statement execute function ${fn}`,
      `create trigger ${quoteIdent(names.delete)} after delete on ${table} referencing old table as partkeeper_old for each statement execute function ${fn}`,
      `create trigger ${quoteIdent(names.truncate)} before truncate on ${table} for each statement execute function ${fn}`,
      ...Object.values(names).map((name) => `alter table ${table} enable always trigger ${quoteIdent(name)}`),
    ];
  })];
}

/** Drops the triggers of a direction from its captured tables (by their names at the time). */
export function dropTriggersSql(layout: TransformLayout, direction: CaptureDirection): string[] {
  const names = Object.values(transitionTriggerNames(layout, direction));
  return layout.capture[direction].flatMap((c) => names.map((name) => `drop trigger if exists ${quoteIdent(name)} on ${quoteQualified(c.table)}`));
}

/**
 * One drain of at most `limit` captured keys (null: all): apply the transform to the picked keys,
 * then delete the picked capture rows. A reverse drain also queues its keys for the forward
 * transform, which runs them after a rollback: the targets' own derived rows (counters, summaries)
 * are then recomputed from the old tables the reverse transform wrote. The statements pick the same
 * rows only when they see one snapshot: run them in a REPEATABLE READ transaction, or under a lock
 * that excludes every writer of the captured tables (the cutover). The last row count is the drained.
 */
export function drainSql(layout: TransformLayout, direction: CaptureDirection, limit: number | null): string[] {
  const table = quoteQualified(captureTable({ id: layout.id, direction }));
  const picked = `select capture_id from ${table} order by capture_id${limit === null ? "" : ` limit ${Math.trunc(limit)}`}`;
  const key = quoteIdent(layout.key);
  const keys = `select distinct ${key} from ${table} where capture_id in (${picked})`;
  const forward = quoteQualified(captureTable({ id: layout.id, direction: "forward" }));
  return [
    `select ${quoteQualified(transformFunction(layout, direction))}(array(${keys}))`,
    ...(direction === "reverse" ? [`insert into ${forward} (${key}) ${keys}`] : []),
    `delete from ${table} where capture_id in (${picked})`,
  ];
}

/**
 * One backfill batch: the next driving keys after `$1` (when `afterWatermark`) up to the boundary,
 * at most the batch size, transformed in one statement. Returns `rows` (driving keys), `last` (the
 * last key as a one-element text array, the next watermark) and `keys` (the batch, as text).
 */
export function batchSql(layout: TransformLayout, afterWatermark: boolean): string {
  const key = quoteIdent(layout.key);
  const type = layout.keyType;
  const bound = afterWatermark ? `${key} > $1::${type} and ${key} <= $2::${type}` : `${key} <= $1::${type}`;
  const limit = afterWatermark ? "$3" : "$2";
  return [
    `with batch as materialized (select ${key} as k from ${quoteQualified(layout.driving)} where ${bound} order by ${key} limit ${limit})`,
    `select (select count(*) from batch)::int8 as rows,`,
    `  (select array[k::text] from batch order by k desc limit 1) as last,`,
    `  array(select b.k::text from batch b order by b.k) as keys,`,
    `  (select ${quoteQualified(transformFunction(layout, "forward"))}(array(select k from batch))) is null as applied`,
  ].join("\n");
}

/** The boundary: the driving table's last key, read in the capture step's transaction. */
export function boundarySql(layout: TransformLayout): string {
  const key = quoteIdent(layout.key);
  return `select array[${key}::text] as boundary from ${quoteQualified(layout.driving)} order by ${key} desc limit 1`;
}

/** Captured keys not applied yet. */
export function pendingSql(layout: TransformLayout, direction: CaptureDirection): string {
  return `select count(*)::int8 as pending from ${quoteQualified(captureTable({ id: layout.id, direction }))}`;
}

/** The next `rows` driving keys after `$1` (or from the lowest when `from` is false), as text, for one verification range. */
export function verifyRangeSql(layout: TransformLayout, afterFrom: boolean, rows: number): string {
  const key = quoteIdent(layout.key);
  const where = afterFrom ? `where ${key} > $1::${layout.keyType} ` : "";
  // ORDER BY d.key: an unqualified name would sort by the text output column of the same name.
  return `select array(select d.${key}::text from ${quoteQualified(layout.driving)} d ${where.replace(key, `d.${key}`)}order by d.${key} limit ${Math.trunc(rows)}) as keys`;
}

/** The keys of `$1` (text) without a captured change pending: what a verification range compares. */
export function settledKeysSql(layout: TransformLayout): string {
  const cap = quoteQualified(captureTable({ id: layout.id, direction: "forward" }));
  return (
    `select array(select k::text from unnest($1::text[]::${layout.keyType}[]) k ` +
    `where not exists (select 1 from ${cap} c where c.${quoteIdent(layout.key)} = k)) as keys`
  );
}

type Check = TransformSpec["verify"][number];

/** A check's two queries, each of one row over the driving keys `$1`. Built-in forms are generated here. */
export function checkQueries(check: Check): { source: string; target: string } {
  if ("source" in check) return { source: check.source, target: check.target };
  if ("rows" in check) {
    const count = (table: QualifiedName) => `select count(*)::int8 as rows from ${quoteQualified(table)} where ${quoteIdent(check.rows.key)} = any($1)`;
    return { source: count(check.rows.source), target: count(check.rows.target) };
  }
  const row = `row(${check.hash.columns.map(quoteIdent).join(", ")})::text`;
  const digest = (table: QualifiedName) =>
    `select count(*)::int8 as rows, coalesce(sum(('x' || substr(md5(${row}), 1, 15))::bit(60)::int8), 0)::text as digest ` +
    `from ${quoteQualified(table)} where ${quoteIdent(check.hash.key)} = any($1)`;
  return { source: digest(check.hash.source), target: digest(check.hash.target) };
}

/**
 * Locks every table of a step at once, without waiting (NOWAIT: a step that waited for one table while
 * holding another could deadlock with a writer; DdlStep.locksSeveralTables), each once, in a fixed order.
 */
function lockSql(tables: ReadonlyArray<QualifiedName>, mode: string): string[] {
  const names = [...new Set(tables.map((t) => quoteQualified(t)))].sort();
  return names.length ? [`lock table ${names.join(", ")} in ${mode} mode nowait`] : [];
}

/**
 * The cutover, one transaction (run under lock_timeout): stop writes to every captured source and
 * take the old tables, apply every captured change, drop the forward capture, rename the old tables
 * to `<name>_retired`, run the spec's view statements (compatibility views under the old names), and,
 * when the spec has a reverse mapping, create the reverse transform and capture writes to the new
 * tables for a rollback.
 */
export function cutoverSql(layout: TransformLayout, views: ReadonlyArray<string>, reverseTransform: ReadonlyArray<string> | null): string[] {
  const retired = new Set(layout.retire.map((t) => quoteQualified(t)));
  return [
    ...lockSql(layout.retire, "access exclusive"),
    ...lockSql(layout.capture.forward.map((c) => c.table).filter((t) => !retired.has(quoteQualified(t))), "exclusive"),
    ...drainSql(layout, "forward", null),
    ...dropTriggersSql(layout, "forward"),
    ...layout.retire.map((t) => `alter table ${quoteQualified(t)} rename to ${quoteIdent(retiredName(t).name)}`),
    ...views,
    ...(reverseTransform ? [createTransformFunctionSql(layout, "reverse", reverseTransform)] : []),
    ...installTriggersSql(layout, "reverse"),
  ];
}

/**
 * The rollback, one transaction: stop writes to the new tables, apply every captured change to the
 * retired tables, drop the compatibility views and the reverse capture, give the old tables their
 * names back and capture their writes again (the targets are kept current for another cutover).
 */
export function rollbackSql(layout: TransformLayout): string[] {
  return [
    ...lockSql(layout.capture.reverse.map((c) => c.table), "exclusive"),
    ...drainSql(layout, "reverse", null),
    ...dropTriggersSql(layout, "reverse"),
    ...layout.retire.map((t) => `drop view if exists ${quoteQualified(t)}`),
    ...layout.retire.map((t) => `alter table ${quoteQualified(retiredName(t))} rename to ${quoteIdent(t.name)}`),
    ...installTriggersSql(layout, "forward"),
  ];
}

/** Finalize: the reverse capture, the retired tables, the capture tables and the functions go; targets and views stay. */
export function finalizeSql(layout: TransformLayout): string[] {
  const dropCapture = (direction: CaptureDirection) => [
    ...layout.capture[direction].map((_, i) => `drop function if exists ${quoteQualified(triggerFunction(layout, direction, i))}()`),
    `drop table if exists ${quoteQualified(captureTable({ id: layout.id, direction }))}`,
    `drop function if exists ${quoteQualified(transformFunction(layout, direction))}(${layout.keyType}[])`,
  ];
  return [
    ...dropTriggersSql(layout, "reverse"),
    `drop table if exists ${layout.retire.map((t) => quoteQualified(retiredName(t))).join(", ")}`,
    ...dropCapture("forward"),
    ...dropCapture("reverse"),
  ];
}
