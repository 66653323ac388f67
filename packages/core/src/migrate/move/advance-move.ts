import { setTimeout as sleep } from "node:timers/promises";
import { addCalendarDuration } from "../../config/duration.ts";
import { findPolicy } from "../../config/select-tables.ts";
import type { Config, MoveSpec } from "../../config/schema.ts";
import type { Sql } from "../../db/client.ts";
import { jobDdlExecutor } from "../../db/ddl-executor.ts";
import { quoteQualified } from "../../db/sql-text.ts";
import { MigrationError } from "../../errors.ts";
import { displayName } from "../../identifier.ts";
import { insertMigration, readMigrationRecord, recordMigrationStep, updateMigration, type MigrationRecord, type MigrationState } from "../../records/data-migrations.ts";
import { progressOf, type AdvanceOptions, type MigrationAccess, type MigrationOutcome } from "../advance-migration.ts";
import { targetPartitionsStep } from "../target-partitions.ts";
import { lowestToMoveSql, moveBatchSql } from "./move-sql.ts";

/**
 * A recurring move (kind `move`): every `migrate run` whose `every` has passed since the last
 * complete pass moves the rows matching the spec's condition from the table to the target in
 * batches of one short transaction each (move-sql.ts), until none is left (the pass is complete) or
 * the deadline (the next run continues). No capture is needed: a batch moves each row in one
 * transaction, so there is nothing to replay, verify or roll back. Its record stays `recurring`;
 * `rows_copied` counts the rows moved over all passes.
 */
export async function advanceMove(m: MigrationAccess, spec: MoveSpec, options: AdvanceOptions): Promise<MigrationOutcome> {
  const started = Date.now();
  const exec = jobDdlExecutor({ sql: m.sql, logger: m.logger, config: m.config }, options.dryRun);
  let record: MigrationRecord | null = null;
  let before: MigrationState | "new" = "new";
  let moved = 0;
  const outcome = (status: MigrationOutcome["status"], message: string): MigrationOutcome => ({
    id: spec.id,
    kind: spec.kind,
    table: displayName(spec.table),
    status,
    stateBefore: before,
    stateAfter: record?.state ?? "new",
    steps: exec.log,
    rowsCopied: moved,
    changesDrained: 0,
    message,
    durationMs: Date.now() - started,
  });
  try {
    record = await readMigrationRecord(m.sql, spec.id);
    before = record?.state ?? "new";
    if (record && record.kind !== spec.kind) throw new MigrationError(`migration ${spec.id} is a ${record.kind} migration: a migration id cannot be reused with another kind`);
    const columns = await movedColumns(m.sql, spec);
    const batch = moveBatchSql(spec, columns);
    const policy = findPolicy(m.config as Config, spec.target);
    switch (options.action) {
      case "pause":
      case "resume": {
        if (!record) throw new MigrationError(`migration ${spec.id} has not started yet: run \`migrate run\` first`);
        const paused = options.action === "pause";
        if (!options.dryRun) await updateMigration(m.sql, spec.id, { paused });
        record = { ...record, paused };
        return outcome("ok", paused ? "paused: scheduled runs leave it alone" : "resumed");
      }
      case "run":
        break;
      default:
        throw new MigrationError(`migration ${spec.id} is a recurring move: it has no ${options.action} (each batch moves its rows in one transaction); use run, pause or resume`);
    }
    if (options.dryRun) {
      if (policy) {
        const step = await targetPartitionsStep(m.sql, policy, (column) => lowestToMoveSql(spec, column), m.clock());
        if (step) await exec.run(step);
      }
      await exec.perform({ description: `move rows of ${displayName(spec.table)} matching the condition into ${displayName(spec.target)}, ${spec.batchSize} per transaction`, plan: [`-- ${batch.split("\n").join("\n-- ")}`], work: async () => null });
      return outcome("ok", record ? `next pass ${nextPassText(spec, record, m.clock())}` : "would start the first pass");
    }
    if (record?.paused) return outcome("paused", "paused: `migrate resume` to continue");
    if (record && record.passFinishedAt && addCalendarDuration(record.passFinishedAt, spec.every) > m.clock()) {
      return outcome("ok", `pass complete; next pass ${nextPassText(spec, record, m.clock())}`);
    }
    if (!record) {
      await m.sql.begin(async (tx) => {
        await insertMigration(tx as unknown as Sql, {
          id: spec.id,
          kind: spec.kind,
          spec: { kind: spec.kind, schema: spec.table.schema, table: spec.table.name, key: spec.key, target: displayName(spec.target) },
          rowsEstimate: null,
          batchSize: spec.batchSize,
          state: "recurring",
        });
        await recordMigrationStep(tx as unknown as Sql, spec.id, "start");
      });
      record = await readMigrationRecord(m.sql, spec.id);
    }
    if (policy) {
      const step = await targetPartitionsStep(m.sql, policy, (column) => lowestToMoveSql(spec, column), m.clock());
      if (step) await exec.run(step);
    }
    for (;;) {
      if (Date.now() > m.deadline) return outcome("deferred", `deadline reached after ${moved} rows: the next run continues the pass`);
      const startedMs = Date.now();
      const rows = await m.sql.begin(async (tx) => {
        const [row] = await tx.unsafe<{ moved: string; inserted: string }[]>(batch, [spec.batchSize]);
        const count = Number(row!.moved);
        if (count !== Number(row!.inserted)) {
          throw new MigrationError(`migration ${spec.id}: a batch deleted ${count} rows but inserted ${row!.inserted} into ${displayName(spec.target)}; rolled back`);
        }
        const done = count < spec.batchSize;
        await updateMigration(tx as unknown as Sql, spec.id, { ...(done ? { passFinishedAt: m.clock(), lastError: null } : {}) }, { rows: count, ms: Date.now() - startedMs });
        if (done) await recordMigrationStep(tx as unknown as Sql, spec.id, "pass", { rowsMoved: moved + count });
        return count;
      });
      moved += rows;
      record = { ...record!, rowsCopied: record!.rowsCopied + rows, backfillMs: record!.backfillMs + (Date.now() - startedMs) };
      m.onProgress?.(progressOf(record));
      if (rows < spec.batchSize) {
        record = { ...record, passFinishedAt: m.clock() };
        return outcome("ok", `pass complete: ${moved} rows moved; next pass ${nextPassText(spec, record, m.clock())}`);
      }
      if (spec.pauseMs > 0) await sleep(spec.pauseMs);
    }
  } catch (error) {
    const message = (error as Error).message;
    m.logger.error("migration failed", { id: spec.id, error: message });
    if (!options.dryRun && record) await updateMigration(m.sql, spec.id, { lastError: message }).catch(() => {});
    return outcome("failed", message);
  }
}

function nextPassText(spec: MoveSpec, record: MigrationRecord, now: Date): string {
  if (!record.passFinishedAt) return "continues now";
  const due = addCalendarDuration(record.passFinishedAt, spec.every);
  return due <= now ? "due now" : `after ${due.toISOString()}`;
}

/**
 * The columns a batch writes: every column of the table but generated ones, each of which the target must have.
 * @throws MigrationError naming a missing table or a column the target lacks.
 */
async function movedColumns(sql: Sql, spec: MoveSpec): Promise<string[]> {
  const rows = await sql<{ rel: string; name: string; generated: boolean }[]>`
    select case when a.attrelid = to_regclass(${quoteQualified(spec.table)}) then 'table' else 'target' end as rel,
           a.attname as name, a.attgenerated <> '' as generated
    from pg_attribute a
    where a.attrelid in (to_regclass(${quoteQualified(spec.table)}), to_regclass(${quoteQualified(spec.target)})) and a.attnum > 0 and not a.attisdropped
    order by a.attnum`;
  const table = rows.filter((r) => r.rel === "table");
  const target = new Set(rows.filter((r) => r.rel === "target").map((r) => r.name));
  if (!table.length) throw new MigrationError(`migration ${spec.id}: table ${displayName(spec.table)} does not exist`);
  if (!target.size) throw new MigrationError(`migration ${spec.id}: target ${displayName(spec.target)} does not exist: create it (with the table's columns) first`);
  if (!table.some((c) => c.name === spec.key)) throw new MigrationError(`migration ${spec.id}: key ${spec.key} is not a column of ${displayName(spec.table)}`);
  const columns = table.filter((c) => !c.generated).map((c) => c.name);
  const missing = columns.filter((c) => !target.has(c));
  if (missing.length) throw new MigrationError(`migration ${spec.id}: target ${displayName(spec.target)} lacks column(s) ${missing.join(", ")} of ${displayName(spec.table)}`);
  return columns;
}
