import { describe, expect, it } from "vitest";
import { runMigrations } from "@partkeeper/core";
import { createTestDatabase } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";
import { migrateKillHarness } from "./migrate-kill.ts";
import { auditLogConfig, createAuditLog, MIGRATION_ID, migrationState, partkeeperTriggers, relkind, tableDifference } from "./migrate-fixtures.ts";

/**
 * DESIGN rules 9 and 10: a migration killed at any point is finished by the next run, with no row
 * lost or doubled. The migration runs in a child process (test/migrate-child.ts) that is killed
 * with SIGKILL at three points: in the middle of a backfill batch, after the swap committed (while
 * it drains the reverse capture), and in the middle of the swap's locked transaction. The test
 * holds a lock to stop the child at the last two deterministically. After each kill the table is
 * written to (inserts, updates, partition-key moves, deletes), mirrored into `expected`, and a rerun
 * in this process must finish the step; the table must then equal `expected` (EXCEPT ALL both ways).
 */

const SEED_ROWS = 60_000;
const FORWARD_TRIGGERS = [`partkeeper_${MIGRATION_ID}_forward`, `partkeeper_${MIGRATION_ID}_forward_truncate`];
const REVERSE_TRIGGERS = [`partkeeper_${MIGRATION_ID}_reverse`, `partkeeper_${MIGRATION_ID}_reverse_truncate`];

/** Large batches of heavy rows: a batch takes long enough (a few hundred ms) to be killed in the middle. */
const SLOW_BATCHES = { targetMs: 60_000, initialSize: 20_000, maxSize: 20_000, pauseMs: 0 };

describe("migrate partition-table killed with SIGKILL and run again", async () => {
  const { url, sql } = await createTestDatabase();
  await createAuditLog(sql, { rows: SEED_ROWS, filler: 300 });
  await sql.unsafe(`create table expected (like audit_log including generated); insert into expected (id, created_at, actor, detail) select id, created_at, actor, detail from audit_log`);
  const ctx = await testJobContext(url, auditLogConfig({ batch: SLOW_BATCHES }));
  const { startChild, childSessions, childHolds, killWhen, killWhileHolding } = migrateKillHarness(sql, url);

  /** Inserts (seeded, premade and default ranges), updates, partition-key moves and deletes, on audit_log and mirrored into expected. */
  async function writeBoth(round: number): Promise<void> {
    await sql.unsafe(`
      with ins as (
        insert into audit_log (created_at, actor, detail)
        select at, 'round ${round}', jsonb_build_object('round', ${round})
        from unnest(array[timestamptz '2026-08-20 00:00:00+00', '2026-12-24 00:00:00+00', '2031-01-01 00:00:00+00', '2019-06-01 00:00:00+00']) at,
             generate_series(1, 25) g
        returning id, created_at, actor, detail)
      insert into expected (id, created_at, actor, detail) select * from ins`);
    for (const table of ["audit_log", "expected"]) {
      await sql.unsafe(`
        update ${table} set actor = 'updated in round ${round}', detail = detail || '{"updated": true}' where id % 1013 = ${round};
        update ${table} set created_at = created_at + interval '45 days' where id % 1019 = ${round};
        delete from ${table} where id % 1021 = ${round};
      `);
    }
  }

  /** audit_log (or `table`) equals expected, and no key appears twice. */
  async function expectExact(table = "audit_log"): Promise<void> {
    expect(await tableDifference(sql, table, "expected")).toEqual({ onlyInFirst: 0, onlyInSecond: 0 });
    const [keys] = await sql.unsafe(`select count(*)::int as rows, count(distinct id)::int as ids from ${table}`);
    expect(keys!.rows).toBe(keys!.ids);
  }

  const rerun = async (action: "run" | "swap" | "rollback") => {
    const summary = await runMigrations(ctx, { action, id: MIGRATION_ID, dryRun: false });
    expect(summary.migrations[0], JSON.stringify(summary.migrations[0])).toMatchObject({ status: "ok" });
    return summary.migrations[0]!;
  };

  it("killed in the middle of a backfill batch: the batch is rolled back with its watermark, and a rerun copies the rest exactly", async () => {
    // Killed once at least one batch committed and the next one is executing.
    await killWhen({
      start: () => startChild(auditLogConfig({ batch: SLOW_BATCHES }), "run"),
      what: "a batch after the first",
      probe: async () => {
        if ((await migrationState(sql)) !== "backfilling") return false;
        const [record] = await sql`select watermark from partkeeper.data_migration where id = ${MIGRATION_ID}`;
        const batching = (await childSessions()).some((s) => s.state === "active" && s.query.startsWith("with batch as"));
        return record!.watermark !== null && batching;
      },
    });

    const [record] = await sql`select state, watermark, rows_copied::int as rows from partkeeper.data_migration where id = ${MIGRATION_ID}`;
    expect(record!.state).toBe("backfilling");
    expect(record!.rows).toBeGreaterThan(0);
    expect(record!.rows).toBeLessThan(SEED_ROWS);
    // The copy holds exactly the rows of the committed batches: up to the watermark, none after.
    const [copy] = await sql`select count(*)::int as rows, max(id)::text as last from audit_log_partitioned`;
    expect(copy).toEqual({ rows: record!.rows, last: record!.watermark[0] });

    await writeBoth(1);
    const outcome = await rerun("run");
    expect(outcome).toMatchObject({ stateBefore: "backfilling", stateAfter: "verified", verification: { ok: true } });
    expect(outcome.rowsCopied).toBeGreaterThan(0);
    await expectExact("audit_log_partitioned");
  });

  it("killed after the swap committed, while draining the reverse capture: a rerun drains it, and the retired table stays exact for a rollback", async () => {
    // The test holds the reverse capture table: the child's drain right after its swap waits for it.
    await killWhileHolding(`lock table partkeeper."${MIGRATION_ID}.reverse" in share mode`, {
      start: () => startChild(auditLogConfig({ swap: "auto", batch: SLOW_BATCHES }), "run"),
      what: "the swap, then a lock wait",
      probe: async () => (await migrationState(sql)) === "swapped" && (await childSessions()).some((s) => s.waitEventType === "Lock"),
    });

    expect(await migrationState(sql)).toBe("swapped");
    expect(await relkind(sql, "audit_log")).toBe("p");
    expect(await relkind(sql, "audit_log_retired")).toBe("r");
    expect(await partkeeperTriggers(sql, "audit_log")).toEqual(REVERSE_TRIGGERS);
    await expectExact();

    await writeBoth(2);
    const outcome = await rerun("run");
    expect(outcome).toMatchObject({ stateBefore: "swapped", stateAfter: "swapped" });
    expect(outcome.changesDrained).toBeGreaterThan(0);
    await expectExact();
    await expectExact("audit_log_retired");

    expect(await rerun("rollback")).toMatchObject({ stateAfter: "rolled-back" });
    expect(await relkind(sql, "audit_log")).toBe("r");
    await expectExact();
  });

  it("killed in the middle of the swap's locked transaction: nothing is swapped, and a rerun swaps exactly", async () => {
    // The test holds the copy: the child's swap transaction locks audit_log, then waits on LOCK TABLE for the copy.
    await killWhileHolding("lock table audit_log_partitioned in access share mode", {
      start: () => startChild(auditLogConfig({ batch: SLOW_BATCHES }, { lockTimeoutMs: 30_000, ddlAttempts: 1 }), "swap", MIGRATION_ID),
      what: "the swap's LOCK TABLE holding audit_log and waiting for the copy",
      probe: async () => {
        if (!(await childSessions()).some((s) => s.waitEventType === "Lock" && s.query.startsWith("LOCK TABLE"))) return false;
        return childHolds("audit_log", "AccessExclusiveLock");
      },
    });

    expect(await migrationState(sql)).toBe("rolled-back");
    expect(await relkind(sql, "audit_log")).toBe("r");
    expect(await relkind(sql, "audit_log_retired")).toBeNull();
    expect(await partkeeperTriggers(sql, "audit_log")).toEqual(FORWARD_TRIGGERS);
    await expectExact();

    await writeBoth(3);
    expect(await rerun("swap")).toMatchObject({ stateBefore: "rolled-back", stateAfter: "swapped" });
    expect(await relkind(sql, "audit_log")).toBe("p");
    await expectExact();
  });
});
