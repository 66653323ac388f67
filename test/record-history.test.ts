import { describe, expect, it } from "vitest";
import { runMigrations, type ConfigInput, type MigrateAction, type MigrationOutcome } from "@partkeeper/core";
import { writeLegacyChange } from "../examples/record-history/legacy-app.ts";
import recordHistory, { recordHistoryPolicy } from "../examples/record-history/migration.ts";
import { oldQueries } from "../examples/record-history/old-queries.ts";
import { seedRecordHistory } from "../examples/record-history/seed.ts";
import { createTestDatabase } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";
import { relkind } from "./migrate-fixtures.ts";
import { agreed, historyAgreement } from "./record-history-checks.ts";

/**
 * The worked example (examples/record-history) end to end on seeded data, with a steady writer
 * adding changes through the legacy tables while it runs: afterwards versions per record, field
 * changes, major snapshots and counters agree between the five old tables and the new ones, the old
 * queries return the same rows through the compatibility views, and writes made to the new tables
 * after cutover are in the old tables after a rollback.
 */

const NOW = new Date("2026-11-21T12:00:00Z");
const ID = (recordHistory as { id: string }).id;

describe("examples/record-history", async () => {
  const { url, sql } = await createTestDatabase();
  const seeded = await seedRecordHistory(sql, { records: 600, changes: 6_000, now: NOW });
  const config: ConfigInput = { archive: { location: "s3://partkeeper-test/record-history" }, tables: [recordHistoryPolicy], migrations: [{ ...(recordHistory as object), swap: "manual" }] as ConfigInput["migrations"] };
  const ctx = await testJobContext(url, config, { now: NOW });
  const migrate = async (action: MigrateAction): Promise<MigrationOutcome> => (await runMigrations(ctx, { action, id: ID, dryRun: false })).migrations[0]!;
  const sample = (await sql`select uid from record order by uid limit 4`).map((r) => r.uid as string);
  const oldAnswers = async () => Promise.all(sample.flatMap((uid) => oldQueries.map((q) => sql.unsafe(q.sql, [uid]))));

  it("consolidates while a writer adds changes: versions, field changes, snapshots and counters agree", async () => {
    expect(seeded.changes).toBe(6_000);
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await writeLegacyChange(sql, sample[i % sample.length]!, i);
        writes++;
      }
    })();
    const first = await migrate("run");
    writing = false;
    await writer;
    expect(first, first.message).toMatchObject({ status: "ok", stateAfter: "verified" });
    expect(writes).toBeGreaterThan(0);
    const second = await migrate("run");
    expect(second, second.message).toMatchObject({ status: "ok", stateAfter: "verified" });

    const agreement = await historyAgreement(sql);
    expect(agreement).toMatchObject(agreed(agreement));
    expect(agreement.oldChanges).toBe(6_000 + writes);
    expect(agreement.majorSnapshots).toBeGreaterThan(0);
  });

  it("cuts over to compatibility views: the old queries return the same rows", async () => {
    const before = await oldAnswers();
    const swap = await migrate("swap");
    expect(swap, swap.message).toMatchObject({ status: "ok", stateAfter: "swapped" });
    for (const table of ["record_history", "record_field_history", "record_version", "record_snapshot", "record_restore"]) {
      expect(await relkind(sql, table)).toBe("v");
      expect(await relkind(sql, `${table}_retired`)).toBe("r");
    }
    expect(await oldAnswers()).toEqual(before);
  });

  it("rolls back after writes to the new tables: the old tables hold them", async () => {
    const record = sample[0]!;
    await sql.begin(async (tx) => {
      const [v] = await tx`update record_version_v2 set current_version = current_version + 1, total_changes = total_changes + 1, admin_changes = admin_changes + 1, updated_at = now()
        where record_id = ${record} returning current_version`;
      await tx`insert into record_history_v2 (uid, record_id, version_number, change_type, change_source, changed_by, change_reason, field_changes, created_at)
        values (gen_random_uuid(), ${record}, ${v!.current_version}, 'update', 'admin', 'after cutover', 'fix', ${sql.json({ title: { old: "a", new: "b", reason: "fix" } })}, now())`;
    });
    const swapped = await oldAnswers();
    const rollback = await migrate("rollback");
    expect(rollback, rollback.message).toMatchObject({ status: "ok", stateAfter: "rolled-back" });
    expect(await relkind(sql, "record_history")).toBe("r");
    expect(await oldAnswers()).toEqual(swapped);
    const [written] = await sql`select h.changed_by, f.field_name, f.new_value from record_history h join record_field_history f on f.history_id = h.id
      where h.record_id = ${record} and h.changed_by = 'after cutover'`;
    expect(written).toEqual({ changed_by: "after cutover", field_name: "title", new_value: "b" });
    const again = await migrate("swap");
    expect(again, again.message).toMatchObject({ status: "ok", stateAfter: "swapped" });
  });
});
