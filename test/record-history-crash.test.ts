import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, onTestFinished } from "vitest";
import { runMigrations, type ConfigInput, type MigrateAction, type MigrationOutcome } from "@partkeeper/core";
import { writeLegacyChange } from "../examples/record-history/legacy-app.ts";
import recordHistory, { recordHistoryPolicy } from "../examples/record-history/migration.ts";
import { seedRecordHistory } from "../examples/record-history/seed.ts";
import { createTestDatabase } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";
import { migrationState, relkind } from "./migrate-fixtures.ts";
import { migrateKillHarness } from "./migrate-kill.ts";
import { agreed, historyAgreement } from "./record-history-checks.ts";

/**
 * DESIGN rules 9 and 10 for the `transform` kind, on the worked example (examples/record-history):
 * `migrate` killed with SIGKILL in the middle of a backfill batch and in the middle of the cutover's
 * locked transaction, the legacy application writing changes in between, then run again. Afterwards
 * the new tables hold every version of every record once: none missing, none twice, counters equal.
 */

const NOW = new Date("2026-11-21T12:00:00Z");
const ID = (recordHistory as { id: string }).id;
/** Batches of 100 records (about 1,000 changes), never resized: about 20 batches to be killed in. */
const FIXED_BATCHES = { targetMs: 60_000, initialSize: 100, maxSize: 100, pauseMs: 0 };
/**
 * Every lock the cutover takes is NOWAIT (DdlStep.locksSeveralTables), so no table lock of the test can
 * stop it halfway: the test's spec ends its view statements with a wait for this advisory lock.
 */
const CUTOVER_LOCK = 861_042;

describe("migrate transform (record history) killed with SIGKILL and run again", async () => {
  const { url, sql } = await createTestDatabase();
  await seedRecordHistory(sql, { records: 2_000, changes: 20_000, now: NOW });
  const spec = recordHistory as { cutover: { retire: unknown[]; views: string[] } };
  /** The example's config; `cutoverWaits` adds a last cutover statement that waits for the test's advisory lock. */
  const config = (settings: Partial<ConfigInput> = {}, cutoverWaits = false): ConfigInput => ({
    archive: { location: "s3://partkeeper-test/record-history" },
    tables: [recordHistoryPolicy],
    migrations: [
      {
        ...spec,
        swap: "manual",
        batch: FIXED_BATCHES,
        cutover: { ...spec.cutover, views: [...spec.cutover.views, ...(cutoverWaits ? [`select pg_advisory_xact_lock_shared(${CUTOVER_LOCK})`] : [])] },
      },
    ] as ConfigInput["migrations"],
    ...settings,
  });
  const ctx = await testJobContext(url, config(), { now: NOW });
  const { startChild, childSessions, childHolds, killWhen, killWhileHolding } = migrateKillHarness(sql, url);
  const migrate = async (action: MigrateAction): Promise<MigrationOutcome> => (await runMigrations(ctx, { action, id: ID, dryRun: false })).migrations[0]!;
  const state = () => migrationState(sql, ID);
  /** Changes the steady writers made, all of which the new tables must hold. */
  let writes = 0;

  /** The legacy application changing a record every 10 ms until `stop()`, which returns how many changes it made. */
  function steadyWriter(round: number) {
    let writing = true;
    let writes = 0;
    const done = (async () => {
      const records = (await sql`select uid from record order by md5(uid::text || ${round})`).map((r) => r.uid as string);
      for (let i = 0; writing; i++) {
        await writeLegacyChange(sql, records[i % records.length]!, round * 100_000 + i, `writer ${round}`);
        writes++;
        await sleep(10);
      }
    })();
    return {
      async stop(): Promise<number> {
        writing = false;
        await done;
        return writes;
      },
    };
  }

  it("killed in the middle of a backfill batch: the batch is rolled back with its watermark, and a rerun completes every record once", async () => {
    const writer = steadyWriter(1);
    onTestFinished(async () => void (await writer.stop()));
    await killWhen({
      start: () => startChild(config(), "run", ID),
      what: "a batch after the first",
      probe: async () => {
        if ((await state()) !== "backfilling") return false;
        const [record] = await sql`select watermark from partkeeper.data_migration where id = ${ID}`;
        const batching = (await childSessions()).some((s) => s.state === "active" && s.query.startsWith("with batch as"));
        return record!.watermark !== null && batching;
      },
    });

    const [record] = await sql`select state, watermark[1] as watermark from partkeeper.data_migration where id = ${ID}`;
    expect(record!.state).toBe("backfilling");
    // The new tables hold the records of the committed batches (every version up to the watermark, of
    // records without a captured change pending) and, after it, only records the writer changed (their
    // captured changes are applied between batches); no version they hold is doubled or made up.
    const capture = sql.unsafe(`partkeeper."${ID}.forward"`);
    const [copy] = await sql`
      select (select count(*) from record_history h where h.record_id <= ${record!.watermark}::uuid
                and not exists (select 1 from ${capture} c where c.uid = h.record_id)
                and not exists (select 1 from record_history_v2 v where v.record_id = h.record_id and v.version_number = h.version_number))::int as missing,
             (select count(*) from record_history_v2 v where v.record_id > ${record!.watermark}::uuid
                and not exists (select 1 from record_history h where h.record_id = v.record_id and h.changed_by = 'writer 1'))::int as beyond,
             (select count(*) from (select record_id, version_number from record_history_v2 except select record_id, version_number from record_history) x)::int as extra,
             (select count(*) from (select record_id, version_number from record_history_v2 group by 1, 2 having count(*) > 1) x)::int as twice,
             (select count(*) from record_history_v2)::int as copied`;
    expect(copy).toMatchObject({ missing: 0, beyond: 0, extra: 0, twice: 0 });
    expect(copy!.copied).toBeGreaterThan(0);

    const outcome = await migrate("run");
    writes += await writer.stop();
    expect(outcome, outcome.message).toMatchObject({ status: "ok", stateBefore: "backfilling", stateAfter: "verified", verification: { ok: true } });
    // The writer's last changes were captured after that run's drain: the next run applies them.
    expect(await migrate("run"), "drain").toMatchObject({ status: "ok", stateAfter: "verified" });
    const agreement = await historyAgreement(sql);
    expect(agreement).toMatchObject(agreed(agreement));
  });

  it("killed in the middle of the cutover's locked transaction: nothing is cut over, and a rerun cuts over with every change", async () => {
    // The writer waits for the cutover's locks until the kill, then goes on through the old tables.
    const writer = steadyWriter(2);
    onTestFinished(async () => void (await writer.stop()));
    // Stopped after the drain, the renames and the compatibility views, before the reverse capture: then killed.
    await killWhileHolding(`select pg_advisory_xact_lock(${CUTOVER_LOCK})`, {
      start: () => startChild(config({ lockTimeoutMs: 30_000 }, true), "swap", ID),
      what: "the cutover holding record_history and waiting at its last view statement",
      probe: async () =>
        (await childSessions()).some((s) => s.waitEventType === "Lock" && s.query.includes("pg_advisory_xact_lock_shared")) && (await childHolds("record_history", "AccessExclusiveLock")),
    });

    expect(await state()).toBe("verified");
    expect(await relkind(sql, "record_history")).toBe("r");
    expect(await relkind(sql, "record_history_retired")).toBeNull();

    await sleep(200);
    writes += await writer.stop();
    const swap = await migrate("swap");
    expect(swap, swap.message).toMatchObject({ status: "ok", stateBefore: "verified", stateAfter: "swapped" });
    expect(await relkind(sql, "record_history")).toBe("v");
    const agreement = await historyAgreement(sql, { retired: true });
    expect(agreement).toMatchObject(agreed(agreement));
    expect(agreement.oldChanges).toBe(20_000 + writes);
  });
});
