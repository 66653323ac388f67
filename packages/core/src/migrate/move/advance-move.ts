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
import { migrationOutcome, progressOf, type AdvanceOptions, type MigrationAccess, type MigrationOutcome } from "../advance-migration.ts";
import { targetPartitionsStep } from "../target-partitions.ts";
import { checkConditionSql, lowestToMoveSql, moveBatchSql } from "./move-sql.ts";

/**
 * A recurring move (kind `move`): every `migrate run` whose `every` has passed since the last
 * complete pass moves the rows matching the spec's condition from the table to the target in
 * batches of one short transaction each (move-sql.ts), until none is left (the pass is complete) or
 * the deadline (the next run continues after the last key moved, kept as the record's watermark;
 * every run moves at least one batch). No capture is needed: a batch moves each row in one
 * transaction, so there is nothing to replay, verify or roll back. Its record stays `recurring`;
 * `rows_copied` counts the rows moved over all passes. A batch that finds no partition of the
 * target for a row (SQLSTATE 23514) creates the partitions again and is retried once.
 */
export async function advanceMove(m: MigrationAccess, spec: MoveSpec, options: AdvanceOptions): Promise<MigrationOutcome> {
  const started = Date.now();
  const exec = jobDdlExecutor({ sql: m.sql, logger: m.logger, config: m.config }, options.dryRun);
  let record: MigrationRecord | null = null;
  let before: MigrationState | "new" = "new";
  let moved = 0;
  const outcome = (status: MigrationOutcome["status"], message: string): MigrationOutcome =>
    migrationOutcome(spec, started, { status, stateBefore: before, stateAfter: record?.state ?? "new", steps: exec.log, rowsCopied: moved, changesDrained: 0, message });
  try {
    record = await readMigrationRecord(m.sql, spec.id);
    before = record?.state ?? "new";
    if (record && record.kind !== spec.kind) throw new MigrationError(`migration ${spec.id} is a ${record.kind} migration: a migration id cannot be reused with another kind`);
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
    const columns = await movedColumns(m.sql, spec);
    await checkCondition(m.sql, spec);
    const policy = findPolicy(m.config as Config, spec.target);
    /** Creates the target's partitions the rows still to move need (none without a policy). */
    const createPartitions = async () => {
      if (!policy) return;
      const step = await targetPartitionsStep(m.sql, policy, (column) => lowestToMoveSql(spec, column), m.clock());
      if (step) await exec.run(step);
    };
    if (options.dryRun) {
      await createPartitions();
      const batch = moveBatchSql(spec, columns, { after: Boolean(record?.watermark) });
      const from = record?.watermark ? `, continuing the pass after ${spec.key} ${record.watermark[0]} ($2)` : "";
      await exec.perform({
        description: `move rows of ${displayName(spec.table)} matching the condition into ${displayName(spec.target)}, ${spec.batchSize} per transaction${from}`,
        plan: [`-- ${batch.split("\n").join("\n-- ")}`],
        work: async () => null,
      });
      return outcome("ok", record ? `next pass ${nextPassText(spec, record, m.clock())}` : "would start the first pass");
    }
    if (record?.paused) return outcome("paused", "paused: `migrate resume` to continue");
    if (record && !record.watermark && record.passFinishedAt && addCalendarDuration(record.passFinishedAt, spec.every) > m.clock()) {
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
    await createPartitions();
    // A pass a deadline cut short continues after the last key it moved (the record's watermark).
    let after: string | null = record!.watermark?.[0] ?? null;
    let batches = 0;
    let partitionsRetried = false;
    for (;;) {
      // Each run moves at least one batch, so a run always makes progress whatever its budget.
      if (batches > 0 && Date.now() > m.deadline) return outcome("deferred", `deadline reached after ${moved} rows: the next run continues the pass after ${spec.key} ${after}`);
      const startedMs = Date.now();
      const batch = moveBatchSql(spec, columns, { after: after !== null });
      let result: { rows: number; last: string | null };
      try {
        result = await m.sql.begin(async (tx) => {
          const [row] = await tx.unsafe<{ moved: string; inserted: string; last: string | null }[]>(batch, after === null ? [spec.batchSize] : [spec.batchSize, after]);
          const count = Number(row!.moved);
          if (count !== Number(row!.inserted)) {
            throw new MigrationError(`migration ${spec.id}: a batch deleted ${count} rows but inserted ${row!.inserted} into ${displayName(spec.target)}; rolled back`);
          }
          const done = count < spec.batchSize;
          const update = done ? { passFinishedAt: m.clock(), watermark: null, lastError: null } : { watermark: [row!.last!] };
          await updateMigration(tx as unknown as Sql, spec.id, update, { rows: count, ms: Date.now() - startedMs });
          if (done) await recordMigrationStep(tx as unknown as Sql, spec.id, "pass", { rowsMoved: moved + count });
          return { rows: count, last: row!.last };
        });
      } catch (error) {
        // 23514: no partition of the target for a row (a row that came to match during the pass, older than the partitions made at its start).
        if ((error as { code?: string }).code === "23514" && policy && !partitionsRetried) {
          partitionsRetried = true;
          await createPartitions();
          continue;
        }
        if (error instanceof MigrationError) throw error;
        throw new MigrationError(`migration ${spec.id}: a batch moving rows into ${displayName(spec.target)} failed and was rolled back: ${(error as Error).message}`, { cause: error });
      }
      const rows = result.rows;
      batches++;
      moved += rows;
      const done = rows < spec.batchSize;
      after = done ? null : result.last;
      record = { ...record!, rowsCopied: record!.rowsCopied + rows, backfillMs: record!.backfillMs + (Date.now() - startedMs), watermark: after === null ? null : [after] };
      m.onProgress?.(progressOf(record));
      if (done) {
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

/**
 * Plans the spec's condition on the table without reading a row (move-sql.ts `checkConditionSql`).
 * @throws MigrationError naming the condition and Postgres's reason (a missing column, a type error).
 */
async function checkCondition(sql: Sql, spec: MoveSpec): Promise<void> {
  try {
    await sql.unsafe(checkConditionSql(spec));
  } catch (error) {
    throw new MigrationError(
      `migration ${spec.id}: where ${JSON.stringify(spec.where)} does not work on ${displayName(spec.table)}: ${(error as Error).message}; fix \`where\` in the config`,
      { cause: error },
    );
  }
}
