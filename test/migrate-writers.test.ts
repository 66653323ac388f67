import { setTimeout as sleep } from "node:timers/promises";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { runMigrations, type MigrationOutcome } from "@partkeeper/core";
import { createTestDatabase } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";
import { auditLogConfig, createAuditLog, MIGRATION_ID, partkeeperTriggers, relkind, rowsPerPartition, tableDifference } from "./migrate-fixtures.ts";

/**
 * DESIGN rules 10 and 12: a table converted while the application writes to it. Several writers
 * (one connection each, prepared statements, as postgres.js does by default) insert rows into
 * existing, premade and no ranges (the default partition), update them, move them to another range
 * (an update of the partition key) and delete them, through prepare, a backfill of many small
 * batches, verify, swap and rollback. Each writer touches only its own rows, so its log of what it
 * committed (the row each statement returned, or its deletion) is exact: afterwards the table must
 * equal the seed with every logged write applied, compared in SQL (EXCEPT ALL both ways). Writers
 * may wait; none may get an error.
 */

const SEED_ROWS = 20_000;
const WRITERS = 4;

interface LoggedRow {
  id: number;
  created_at: string;
  actor: string;
  detail: unknown;
}

/** Deterministic per writer, so a failure replays the same operations. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A timestamp (ms precision, UTC) in month `month` (0-based, may exceed 11) of `year`. */
function inMonth(rand: () => number, year: number, month: number): string {
  return new Date(Date.UTC(year, month, 1) + Math.floor(rand() * 27 * 86_400_000)).toISOString();
}

/** Where a writer puts a row: a seeded month, a premade one, or none (the default partition). */
const RANGES = {
  seeded: (r: () => number) => inMonth(r, 2026, 7 + Math.floor(r() * 4)), // 2026-08 .. 2026-11
  premade: (r: () => number) => inMonth(r, 2026, 11 + Math.floor(r() * 2)), // 2026-12, 2027-01
  none: (r: () => number) => (r() < 0.5 ? inMonth(r, 2025, 2) : inMonth(r, 2031, 4)),
};
const anyRange = (r: () => number) => Object.values(RANGES)[Math.floor(r() * 3)]!(r);

const OPERATIONS = ["insert-seeded", "insert-premade", "insert-none", "update", "move", "delete", "insert-move-tx"] as const;

/**
 * `WRITERS` writers on their own connections. Writer `w` owns the seed rows with `id % WRITERS = w`
 * and the rows it inserts; `log` holds the last committed state of every row any writer touched
 * (null: deleted).
 */
function writerPool(url: string) {
  const log = new Map<number, LoggedRow | null>();
  const errors: string[] = [];
  const counts = Object.fromEntries(OPERATIONS.map((o) => [o, 0])) as Record<(typeof OPERATIONS)[number], number>;
  const clients = Array.from({ length: WRITERS }, () => postgres(url, { max: 1, onnotice: () => {} }));
  const owned = clients.map((_, w) => Array.from({ length: SEED_ROWS }, (_, i) => i + 1).filter((id) => id % WRITERS === w));
  const rands = clients.map((_, w) => random(w + 1));
  const next = clients.map(() => 0);
  let ops = 0;
  let maxWaitMs = 0;
  let running: Promise<void>[] = [];
  let stopping = false;

  const record = (rows: ReadonlyArray<Record<string, unknown>>) => {
    for (const r of rows) {
      log.set(Number(r.id), { id: Number(r.id), created_at: (r.created_at as Date).toISOString(), actor: r.actor as string, detail: r.detail });
    }
  };

  async function step(w: number, i: number): Promise<void> {
    const sql = clients[w]!;
    const rand = rands[w]!;
    const mine = owned[w]!;
    const pick = () => Math.floor(rand() * mine.length);
    const operation = OPERATIONS[i % OPERATIONS.length]!;
    const actor = `w${w}-${i}`;
    const returning = sql`returning id, created_at, actor, detail`;
    switch (operation) {
      case "insert-seeded":
      case "insert-premade":
      case "insert-none": {
        const at = RANGES[operation.slice("insert-".length) as keyof typeof RANGES](rand);
        const rows = await sql`insert into audit_log (created_at, actor, detail) values (${at}, ${actor}, ${sql.json({ i })}) ${returning}`;
        record(rows);
        mine.push(Number(rows[0]!.id));
        break;
      }
      case "update": {
        const id = mine[pick()]!;
        record(await sql`update audit_log set actor = ${actor}, detail = detail || ${sql.json({ updated: i })} where id = ${id} ${returning}`);
        break;
      }
      case "move": {
        const id = mine[pick()]!;
        record(await sql`update audit_log set created_at = ${anyRange(rand)}, actor = ${actor} where id = ${id} ${returning}`);
        break;
      }
      case "delete": {
        const at = pick();
        const id = mine[at]!;
        const deleted = await sql`delete from audit_log where id = ${id}`;
        if (deleted.count !== 1) throw new Error(`delete of ${id}: ${deleted.count} rows`);
        log.set(id, null);
        mine.splice(at, 1);
        break;
      }
      case "insert-move-tx": {
        // Two statements in one transaction: the row is inserted in one range and moved to another.
        const rows = await sql.begin(async (tx) => {
          const [row] = await tx`insert into audit_log (created_at, actor) values (${anyRange(rand)}, ${actor}) returning id`;
          return tx`update audit_log set created_at = ${anyRange(rand)} where id = ${row!.id} returning id, created_at, actor, detail`;
        });
        record(rows);
        mine.push(Number(rows[0]!.id));
        break;
      }
    }
    counts[operation]++;
  }

  async function loop(w: number): Promise<void> {
    while (!stopping) {
      const i = next[w]!++;
      const started = Date.now();
      try {
        await step(w, i);
        ops++;
      } catch (error) {
        errors.push(`writer ${w}, ${OPERATIONS[i % OPERATIONS.length]}: ${(error as Error).message}`);
      }
      maxWaitMs = Math.max(maxWaitMs, Date.now() - started);
      await sleep(1);
    }
  }

  return {
    log,
    errors,
    counts,
    get ops() {
      return ops;
    },
    get maxWaitMs() {
      return maxWaitMs;
    },
    start() {
      stopping = false;
      running = clients.map((_, w) => loop(w));
    },
    async stop() {
      stopping = true;
      await Promise.all(running);
    },
    async end() {
      await this.stop();
      await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
    },
  };
}

describe("migrate partition-table with steady concurrent writers", async () => {
  const { url, sql } = await createTestDatabase();
  await createAuditLog(sql, { rows: SEED_ROWS });
  await sql`create table seed as select id, created_at, actor, detail from audit_log`;
  const ctx = await testJobContext(
    url,
    auditLogConfig({ batch: { targetMs: 1000, initialSize: 500, maxSize: 500, pauseMs: 10 } }, { lockTimeoutMs: 1000 }),
  );

  /** The seed with every logged write applied, as table `expected` (columns as audit_log's). */
  async function loadExpected(log: ReadonlyMap<number, LoggedRow | null>): Promise<void> {
    const rows = [...log.values()].filter((r): r is LoggedRow => r !== null);
    await sql`drop table if exists expected`;
    await sql`create table expected as select id, created_at, actor, detail, length(actor) as n from seed where id <> all(${[...log.keys()]}::int8[])`;
    await sql`insert into expected
      select id, created_at, actor, detail, length(actor) from jsonb_to_recordset(${sql.json(rows as never)}) as x(id int8, created_at timestamptz, actor text, detail jsonb)`;
  }

  /** Stops the writers; none failed, `audit_log` is of `kind` and equals the seed with their writes applied. */
  async function stopAndCompare(writers: ReturnType<typeof writerPool>, kind: "p" | "r"): Promise<void> {
    await writers.stop();
    expect(writers.errors).toEqual([]);
    expect(await relkind(sql, "audit_log")).toBe(kind);
    await loadExpected(writers.log);
    expect(await tableDifference(sql, "audit_log", "expected")).toEqual({ onlyInFirst: 0, onlyInSecond: 0 });
  }

  const one = (outcomes: ReadonlyArray<MigrationOutcome>) => {
    expect(outcomes).toHaveLength(1);
    return outcomes[0]!;
  };

  it("loses no committed write through backfill, verify, swap and rollback, and fails no writer", async () => {
    const writers = writerPool(url);
    try {
      writers.start();
      await sleep(100);
      // Prepare, capture, backfill (40 batches of 500 rows), verify: swap is manual.
      const opsAtBatch: number[] = [];
      const run = one((await runMigrations(ctx, { action: "run", dryRun: false, onProgress: () => opsAtBatch.push(writers.ops) })).migrations);
      expect(run).toMatchObject({ status: "ok", stateBefore: "new", stateAfter: "verified" });
      expect(run.rowsCopied).toBeGreaterThanOrEqual(SEED_ROWS - writers.counts.delete);
      expect(opsAtBatch.length).toBeGreaterThanOrEqual(40);
      // The writers kept writing while the batches ran, and the capture carried their writes.
      expect(opsAtBatch.at(-1)! - opsAtBatch[0]!).toBeGreaterThan(100);
      expect(run.changesDrained).toBeGreaterThan(100);
      expect(run.verification).toMatchObject({ ok: true });

      await sleep(100);
      const swap = one((await runMigrations(ctx, { action: "swap", id: MIGRATION_ID, dryRun: false })).migrations);
      expect(swap).toMatchObject({ status: "ok", stateAfter: "swapped" });
      await sleep(300);
      await stopAndCompare(writers, "p");
      // Rows landed in seeded, premade and default partitions.
      const partitions = await rowsPerPartition(sql, "audit_log");
      for (const p of ["audit_log_p2026_08", "audit_log_p2026_11", "audit_log_p2026_12", "audit_log_p2027_01", "audit_log_default"]) {
        expect(partitions[p], p).toBeGreaterThan(0);
      }

      writers.start();
      await sleep(200);
      const rollback = one((await runMigrations(ctx, { action: "rollback", id: MIGRATION_ID, dryRun: false })).migrations);
      expect(rollback).toMatchObject({ status: "ok", stateAfter: "rolled-back" });
      await sleep(300);
      await stopAndCompare(writers, "r");
      // After the rollback the copy is kept current: a run drains what was captured into it.
      expect(await partkeeperTriggers(sql, "audit_log")).toEqual([`partkeeper_${MIGRATION_ID}_forward`, `partkeeper_${MIGRATION_ID}_forward_truncate`]);
      const again = one((await runMigrations(ctx, { action: "run", dryRun: false })).migrations);
      expect(again).toMatchObject({ status: "ok", stateAfter: "rolled-back" });
      expect(await tableDifference(sql, "audit_log_partitioned", "audit_log")).toEqual({ onlyInFirst: 0, onlyInSecond: 0 });

      expect(Object.values(writers.counts).every((n) => n > 20), JSON.stringify(writers.counts)).toBe(true);
      // DESIGN rule 12: a writer waits for partkeeper's locks about lock_timeout (1 s here) at the most.
      expect(writers.maxWaitMs).toBeLessThan(2000);
    } finally {
      await writers.end();
    }
  });
});
