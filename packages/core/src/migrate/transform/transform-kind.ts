import { relationExists } from "../../catalog/read-relation.ts";
import { findPolicy } from "../../config/select-tables.ts";
import type { Config, TransformSpec } from "../../config/schema.ts";
import type { Sql } from "../../db/client.ts";
import type { DdlStep } from "../../db/ddl-executor.ts";
import { quoteQualified } from "../../db/sql-text.ts";
import { MigrationError } from "../../errors.ts";
import { displayName, type QualifiedName } from "../../identifier.ts";
import type { MigrationRecord } from "../../records/data-migrations.ts";
import type { MigrationKind, PreparedMigration } from "../migration-kind.ts";
import { targetPartitionsStep } from "../target-partitions.ts";
import { describeRange, MAX_REPORTED, type RangeComparison, type VerifyResult } from "../verify.ts";
import {
  batchSql,
  boundarySql,
  checkMappingsSql,
  checkQueries,
  createCaptureSql,
  createTransformFunctionSql,
  cutoverSql,
  drainSql,
  finalizeSql,
  installTriggersSql,
  pendingSql,
  retiredName,
  rollbackSql,
  settledKeysSql,
  transformFunction,
  transformLayout,
  verifyRangeSql,
  type TransformLayout,
} from "./transform-sql.ts";

/** Driving keys per verification range. */
export const VERIFY_RANGE_KEYS = 2_000;

/**
 * The transform kind (docs/migrate.md, "Transform"): the spec's batch transform from sources into
 * new tables, re-run for the driving keys every captured write touches, verified by the spec's
 * checks per range of driving keys, cut over to compatibility views, rolled back by the reverse
 * transform. The driving key is one column with a unique index of its own.
 */
export function transformKind(spec: TransformSpec, config: Pick<Config, "tables">): MigrationKind {
  const layoutOf = (record: MigrationRecord) => (record.spec as { layout: TransformLayout }).layout;
  const checks = spec.verify.map((check) => ({ name: check.name, ...checkQueries(check) }));

  /** The checks' target rows for `keys`, as JSON text (the idempotency check compares them). */
  const targetState = async (tx: Sql, keys: ReadonlyArray<string>) => {
    const rows: string[] = [];
    for (const check of checks) rows.push(JSON.stringify(await tx.unsafe(check.target, [keys as string[]])));
    return rows;
  };

  return {
    structural: {
      kind: spec.kind,
      schema: spec.table.schema,
      table: spec.table.name,
      key: spec.key,
      targets: spec.targets.map((t) => displayName(t.table)),
      retire: spec.cutover.retire.map(displayName),
    },

    async prepare(sql: Sql): Promise<PreparedMigration> {
      const keyType = await checkSources(sql, spec);
      const layout = transformLayout(spec, keyType);
      const statements = [
        ...spec.prepare,
        ...createCaptureSql(layout, "forward"),
        ...checkMappingsSql(layout, "forward"),
        createTransformFunctionSql(layout, "forward", spec.transform),
      ];
      if (spec.reverse) {
        // The reverse transform writes the retired tables, which exist from cutover on: created then.
        statements.push(...createCaptureSql(layout, "reverse"), ...checkMappingsSql(layout, "reverse"));
      }
      const [estimate] = await sql<{ rows: number }[]>`select reltuples::float8 as rows from pg_class where oid = ${quoteQualified(spec.table)}::regclass`;
      return {
        step: { description: `prepare ${spec.id}: create ${spec.targets.map((t) => displayName(t.table)).join(", ")}, the transform function and capture tables`, statements, transaction: true },
        layout: layout as unknown as Record<string, unknown>,
        rowsEstimate: estimate && estimate.rows >= 0 ? Math.round(estimate.rows) : null,
        detail: { targets: spec.targets.map((t) => displayName(t.table)) },
      };
    },

    async beforeCapture(sql, _record, now) {
      const steps: DdlStep[] = [];
      for (const target of spec.targets) {
        const policy = findPolicy(config as Config, target.table);
        if (!policy) continue;
        const coverFrom = target.coverFrom;
        const step = await targetPartitionsStep(sql, policy, coverFrom === null ? null : () => coverFrom, now);
        if (step) steps.push(step);
      }
      return steps;
    },

    captureStep(record) {
      const layout = layoutOf(record);
      return {
        description: `install capture on ${layout.capture.forward.map((c) => displayName(c.table)).join(", ")} and fix the backfill boundary`,
        statements: installTriggersSql(layout, "forward"),
        transaction: true,
        locksSeveralTables: true,
      };
    },

    boundarySql: (record) => boundarySql(layoutOf(record)),

    async batch(tx, record, size, first) {
      const layout = layoutOf(record);
      const params = [...(record.watermark ?? []), ...record.boundary!, size];
      const [row] = await tx.unsafe<{ rows: string; last: string[] | null; keys: string[] }[]>(batchSql(layout, record.watermark !== null), params as string[]);
      if (first && row!.keys.length) await checkIdempotent(tx, layout, row!.keys);
      return { rows: Number(row!.rows), last: row!.last };
    },

    batchPlan(record, prepared) {
      const layout = record ? layoutOf(record) : (prepared!.layout as unknown as TransformLayout);
      return [`-- ${batchSql(layout, true).split("\n").join("\n-- ")}`];
    },

    async drain(sql, record, direction, limit) {
      const counts = await sql.begin("isolation level repeatable read", async (tx) => {
        const result: number[] = [];
        for (const statement of drainSql(layoutOf(record), direction, limit)) result.push((await tx.unsafe(statement)).count);
        return result;
      });
      return counts[counts.length - 1] ?? 0;
    },

    pendingSql: (record, direction) => pendingSql(layoutOf(record), direction),

    async verify(sql, record, from, deadline) {
      return verifyTransform(sql, layoutOf(record), checks, from, deadline);
    },

    differenceMessage(_record, result) {
      const ranges = result.differing
        .map((r) => `${describeRange(r)} (${r.sourceRows} keys): ${r.check}: sources ${r.source}, targets ${r.target}`)
        .join("; ");
      return `migration ${spec.id}: verification found the targets different from the sources in driving key ranges ${ranges}; nothing was cut over`;
    },

    async swapStep(sql, record) {
      const layout = layoutOf(record);
      for (const table of layout.retire) {
        const name = retiredName(table);
        if (await relationExists(sql, name)) throw new MigrationError(`migration ${spec.id}: ${displayName(name)} already exists; cutover renames ${displayName(table)} to it: rename or drop it first`);
      }
      return {
        description: `cut over: ${layout.retire.map((t) => `${displayName(t)} -> ${displayName(retiredName(t))}`).join(", ")}, compatibility views under the old names`,
        statements: cutoverSql(layout, spec.cutover.views, spec.reverse?.transform ?? null),
        transaction: true,
        locksSeveralTables: true,
      };
    },

    rollbackStep(record) {
      if (!spec.reverse) {
        throw new MigrationError(
          `migration ${spec.id} has no reverse mapping (spec field reverse): writes made through the new tables since cutover cannot be replayed into the old ones, so rollback is refused; add reverse.capture and reverse.transform to the spec before cutover`,
        );
      }
      const layout = layoutOf(record);
      return { description: `roll back: drop the views, ${layout.retire.map((t) => `${displayName(retiredName(t))} -> ${displayName(t)}`).join(", ")}`, statements: rollbackSql(layout), transaction: true, locksSeveralTables: true };
    },

    finalizeStep(record) {
      const layout = layoutOf(record);
      return { description: `finalize: drop ${layout.retire.map((t) => displayName(retiredName(t))).join(", ")} and the capture of ${spec.id}`, statements: finalizeSql(layout), transaction: true };
    },

    hasReverse: () => spec.reverse !== undefined,

    words: {
      swapped: `${spec.cutover.retire.map(displayName).join(", ")} are compatibility views over ${spec.targets.map((t) => displayName(t.table)).join(", ")}`,
      rolledBack: `${spec.cutover.retire.map(displayName).join(", ")} are the old tables again; the targets are kept current (cut over again with \`migrate swap\`)`,
      finalized: "the retired tables and the capture are dropped; the targets and views stay",
    },
  };

  /**
   * Runs the batch's transform a second time and compares what the checks read of the targets
   * before and after: a transform that is not idempotent would corrupt the targets on every
   * captured change of a key it already copied.
   * @throws MigrationError naming the first check that changed (the batch is rolled back).
   */
  async function checkIdempotent(tx: Sql, layout: TransformLayout, keys: ReadonlyArray<string>): Promise<void> {
    const notIdempotent = (what: string) =>
      new MigrationError(
        `migration ${spec.id}: the transform is not idempotent: running the batch of driving keys (${keys[0]} .. ${keys[keys.length - 1]}) twice ${what}; ` +
          "make every statement replace the rows of the keys `$1` (delete, then insert); nothing was copied",
      );
    const once = await targetState(tx, keys);
    try {
      await tx.unsafe(`select ${quoteQualified(transformFunction(layout, "forward"))}($1::text[]::${layout.keyType}[])`, [keys as string[]]);
    } catch (error) {
      // 23505 unique_violation: the second run inserted rows the first had inserted.
      if ((error as { code?: string }).code === "23505") throw notIdempotent(`failed: ${(error as Error).message}`);
      throw error;
    }
    const twice = await targetState(tx, keys);
    const changed = checks.findIndex((_, i) => once[i] !== twice[i]);
    if (changed >= 0) throw notIdempotent(`changed check "${checks[changed]!.name}" of the targets from ${once[changed]} to ${twice[changed]}`);
  }
}

/**
 * Checks the tables the spec names before anything is created: driving, captured and retired
 * tables exist, and the driving key is NOT NULL with a unique index of its own. Returns the key's type.
 * @throws MigrationError naming the spec field and the table or column.
 */
async function checkSources(sql: Sql, spec: TransformSpec): Promise<string> {
  const named: Array<[string, QualifiedName]> = [
    ["driving.table", spec.table],
    ...spec.capture.map((c, i) => [`capture.${i}.table`, c.table] as [string, QualifiedName]),
    ...spec.cutover.retire.map((t, i) => [`cutover.retire.${i}`, t] as [string, QualifiedName]),
  ];
  for (const [field, table] of named) {
    if (!(await relationExists(sql, table))) throw new MigrationError(`migration ${spec.id}: ${field} names ${displayName(table)}, which does not exist`);
  }
  const [key] = await sql<{ type: string; not_null: boolean; unique_alone: boolean }[]>`
    select format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
      exists (select 1 from pg_index i where i.indrelid = a.attrelid and i.indisunique and i.indpred is null
              and i.indnkeyatts = 1 and i.indkey[0] = a.attnum) as unique_alone
    from pg_attribute a
    where a.attrelid = ${quoteQualified(spec.table)}::regclass and a.attname = ${spec.key} and a.attnum > 0 and not a.attisdropped`;
  if (!key) throw new MigrationError(`migration ${spec.id}: driving.key names column ${spec.key}, which ${displayName(spec.table)} does not have`);
  if (!key.unique_alone || !key.not_null) {
    throw new MigrationError(
      `migration ${spec.id}: driving key ${displayName(spec.table)}.${spec.key} is not unique: batches are sets of its values, so it needs ` +
        `${key.not_null ? "" : "NOT NULL and "}a primary key or unique index on (${spec.key}) alone, without a WHERE clause`,
    );
  }
  return key.type;
}

/**
 * Verification by ranges of VERIFY_RANGE_KEYS driving keys, each in one REPEATABLE READ snapshot:
 * every check's source and target rows for the range's keys, leaving out keys with a captured change
 * not applied yet (the next drain re-applies them, every other key must already agree).
 */
async function verifyTransform(
  sql: Sql,
  layout: TransformLayout,
  checks: ReadonlyArray<{ name: string; source: string; target: string }>,
  from: ReadonlyArray<string> | null,
  deadline: number,
): Promise<VerifyResult> {
  const started = Date.now();
  const differing: RangeComparison[] = [];
  let position = from;
  let ranges = 0;
  let rows = 0;
  for (;;) {
    if (ranges > 0 && Date.now() > deadline) return { ok: true, complete: false, next: position, ranges, rows, differing, durationMs: Date.now() - started };
    const comparison = await sql.begin("isolation level repeatable read read only", async (tx) => {
      const [range] = await tx.unsafe<{ keys: string[] }[]>(verifyRangeSql(layout, position !== null, VERIFY_RANGE_KEYS), position ? [position[0]!] : []);
      const keys = range!.keys;
      if (!keys.length) return null;
      const [settled] = await tx.unsafe<{ keys: string[] }[]>(settledKeysSql(layout), [keys]);
      const compared: RangeComparison[] = [];
      for (const check of checks) {
        const [source] = await tx.unsafe(check.source, [settled!.keys]);
        const [target] = await tx.unsafe(check.target, [settled!.keys]);
        const s = JSON.stringify(source ?? null);
        const t = JSON.stringify(target ?? null);
        if (s !== t) compared.push({ from: position, to: [keys[keys.length - 1]!], sourceRows: keys.length, targetRows: keys.length, equal: false, check: check.name, source: s, target: t });
      }
      return { keys, compared };
    });
    if (comparison === null) break;
    ranges++;
    rows += comparison.keys.length;
    for (const c of comparison.compared) if (differing.length < MAX_REPORTED) differing.push(c);
    position = [comparison.keys[comparison.keys.length - 1]!];
    if (comparison.keys.length < VERIFY_RANGE_KEYS) break;
  }
  return { ok: differing.length === 0, complete: true, next: null, ranges, rows, differing, durationMs: Date.now() - started };
}
