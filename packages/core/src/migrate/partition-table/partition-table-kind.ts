import { readTableShape } from "../../catalog/read-table-shape.ts";
import type { PartitionTableSpec, TablePolicy } from "../../config/schema.ts";
import type { Sql } from "../../db/client.ts";
import { quoteIdent, quoteQualified } from "../../db/sql-text.ts";
import { displayName } from "../../identifier.ts";
import { planFuturePartitions } from "../../plan/plan-future-partitions.ts";
import type { MigrationRecord } from "../../records/data-migrations.ts";
import { backfillBatchSql } from "../backfill.ts";
import { drainSql, pendingCaptureSql, type CaptureDirection } from "../capture.ts";
import type { MigrationKind, PreparedMigration } from "../migration-kind.ts";
import { describeRange, verifyCopy } from "../verify.ts";
import { checkSource, forwardCapture, layoutOf, twinParentInfo, type PartitionTableLayout } from "./layout.ts";
import { boundarySql, finalizeSql, forwardDrain, installForwardCaptureSql, prepareSql, reverseDrain, rollbackSql, swapSql } from "./partition-table-sql.ts";

/** The partition-table kind (docs/migrate.md): a live table into a partitioned copy, swapped by renames. */
export function partitionTableKind(spec: PartitionTableSpec, policy: TablePolicy): MigrationKind {
  const layoutOfRecord = (record: MigrationRecord) => (record.spec as { layout: PartitionTableLayout }).layout;
  const drainOf = (record: MigrationRecord, direction: CaptureDirection) =>
    (direction === "forward" ? forwardDrain : reverseDrain)(spec.id, layoutOfRecord(record));
  return {
    structural: { kind: spec.kind, schema: spec.table.schema, table: spec.table.name, column: spec.column },

    async prepare(sql: Sql, now: Date): Promise<PreparedMigration> {
      const shape = await readTableShape(sql, spec.table);
      const column = shape?.columns.find((c) => c.name === spec.column);
      let nullKeys = 0;
      if (shape && column && !column.notNull) {
        const [row] = await sql.unsafe<{ n: string }[]>(
          `select count(*)::int8 as n from (select 1 from ${quoteQualified(spec.table)} where ${quoteIdent(spec.column)} is null limit 1000000) x`,
        );
        nullKeys = Number(row?.n ?? 0);
      }
      checkSource(spec, policy, shape, { nullKeys });
      const layout = layoutOf(spec, shape!);
      const [range] = await sql.unsafe<{ min: string | null; max: string | null }[]>(
        `select min(${quoteIdent(spec.column)})::text as min, max(${quoteIdent(spec.column)})::text as max from ${quoteQualified(spec.table)}`,
      );
      // Retention is the archive job's business after the swap: the copy gets a partition for every row.
      const { retention: _retention, ...keepAll } = policy as TablePolicy & { retention?: unknown };
      const parent = twinParentInfo(spec.table, policy, column!, shape!.columns, policy.strategy === "range-integer" ? (range?.max ?? null) : null);
      const creates = planFuturePartitions(keepAll as TablePolicy, parent, now, { coverFrom: range?.min ?? null });
      return {
        step: {
          description: `prepare ${spec.id}: create ${displayName(layout.twin)} with ${creates.length} partitions, and capture tables`,
          statements: prepareSql(spec.id, layout, shape!, policy, creates),
          transaction: true,
        },
        layout: layout as unknown as Record<string, unknown>,
        rowsEstimate: shape!.rowEstimate >= 0 ? Math.round(shape!.rowEstimate) : null,
        detail: { twin: layout.twin, partitions: creates.length },
      };
    },

    async beforeCapture() {
      return [];
    },

    captureStep(record) {
      return {
        description: `install capture on ${displayName(spec.table)} and fix the backfill boundary`,
        statements: installForwardCaptureSql(spec.id, layoutOfRecord(record)),
        transaction: true,
      };
    },

    boundarySql: (record) => boundarySql(layoutOfRecord(record)),

    async batch(tx, record, size) {
      const layout = layoutOfRecord(record);
      const text = backfillBatchSql({ source: layout.table, target: layout.twin, keys: layout.keys, columns: layout.columns }, record.watermark !== null);
      const params = [...(record.watermark ?? []), ...record.boundary!, size];
      const [row] = await tx.unsafe<{ rows: string; last: string[] | null }[]>(text, params as string[]);
      return { rows: Number(row!.rows), last: row!.last };
    },

    batchPlan(record, prepared) {
      const layout = record ? layoutOfRecord(record) : (prepared!.layout as unknown as PartitionTableLayout);
      const text = backfillBatchSql({ source: layout.table, target: layout.twin, keys: layout.keys, columns: layout.columns }, true);
      return [`-- ${text.split("\n").join("\n-- ")}`];
    },

    async drain(sql, record, direction, limit) {
      const counts = await sql.begin("isolation level repeatable read", async (tx) => {
        const result: number[] = [];
        for (const statement of drainSql(drainOf(record, direction), limit)) result.push((await tx.unsafe(statement)).count);
        return result;
      });
      return counts[2] ?? 0;
    },

    pendingSql: (record, direction) => pendingCaptureSql({ id: record.id, direction }),

    verify(sql, record, from, deadline) {
      const layout = layoutOfRecord(record);
      return verifyCopy(sql, { source: layout.table, target: layout.twin, keys: layout.keys, capture: forwardCapture(spec.id, layout) }, { from, deadline });
    },

    differenceMessage(record, result) {
      const layout = layoutOfRecord(record);
      const ranges = result.differing.map((r) => `${describeRange(r)}: source ${r.sourceRows} rows, copy ${r.targetRows}`).join("; ");
      return `migration ${spec.id}: verification found ${displayName(layout.twin)} different from ${displayName(layout.table)} in key ranges ${ranges}; nothing was swapped`;
    },

    async swapStep(sql, record) {
      const layout = layoutOfRecord(record);
      const shape = await readTableShape(sql, spec.table);
      // Foreign keys or views added since prepare would follow the retired table: refuse them by name.
      checkSource(spec, policy, shape, null);
      return {
        description: `swap ${displayName(spec.table)} for its partitioned copy (the source becomes ${displayName(layout.retired)})`,
        statements: swapSql(spec.id, layout, shape!),
        transaction: true,
      };
    },

    rollbackStep(record) {
      const layout = layoutOfRecord(record);
      return { description: `roll back: ${displayName(layout.retired)} becomes ${displayName(spec.table)} again`, statements: rollbackSql(spec.id, layout), transaction: true };
    },

    finalizeStep(record) {
      const layout = layoutOfRecord(record);
      return { description: `finalize: drop ${displayName(layout.retired)} and the capture of ${spec.id}`, statements: finalizeSql(spec.id, layout), transaction: true };
    },

    hasReverse: () => true,

    words: {
      swapped: `${displayName(spec.table)} is partitioned`,
      rolledBack: `${displayName(spec.table)} is the original table again; the partitioned copy is kept current (swap again with \`migrate swap\`)`,
      finalized: "the retired table and the capture are dropped",
    },
  };
}

