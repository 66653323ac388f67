import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { openJobContext, parseConfig, readMigrationStatus, runMigrations, silentLogger, type MigrateAction, type MigrationOutcome } from "@partkeeper/core";
import { createTestDatabase } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";
import { auditLogConfig, createAuditLog, MIGRATION_ID, migrationState, partkeeperTriggers, relkind, tableDifference } from "./migrate-fixtures.ts";

/**
 * The swap of a partition-table migration and what the converted table is afterwards: pause and
 * resume before it; a swap that cannot get its lock gives up after its retries without holding up
 * other sessions longer than lock_timeout (DESIGN rules 1 and 12) and leaves the migration as it
 * was; after the swap, queries on the partition key prune to one partition, the identity sequence
 * goes on above every existing key and the table's grants are the source's.
 */

const SEED_ROWS = 60_000; // 2026-08-01 .. 2026-09-11, one a minute
const LOCK_TIMEOUT_MS = 200;

describe("migrate swap", async () => {
  const { url, sql } = await createTestDatabase();
  await createAuditLog(sql, { rows: SEED_ROWS });
  const reader = `pk_reader_${process.pid}`;
  await sql.unsafe(`create role ${reader}; grant select on audit_log to ${reader}`);
  afterAll(() => sql.unsafe(`drop owned by ${reader}; drop role ${reader}`));
  const config = auditLogConfig({}, { lockTimeoutMs: LOCK_TIMEOUT_MS, ddlAttempts: 2 });
  const ctx = await testJobContext(url, config);

  const migrate = async (action: MigrateAction): Promise<MigrationOutcome> => {
    const summary = await runMigrations(ctx, { action, id: MIGRATION_ID, dryRun: false });
    return summary.migrations[0]!;
  };

  it("pause keeps runs from advancing a migration (capture keeps recording); resume lets the next run continue", async () => {
    // A run whose deadline has passed prepares and installs capture, then stops before the first batch.
    const { ctx: late, close } = await openJobContext({ databaseUrl: url, env: process.env, config: parseConfig(config), logger: silentLogger, clock: ctx.clock, deadline: 0 });
    try {
      const first = (await runMigrations(late, { action: "run", dryRun: false })).migrations[0]!;
      expect(first).toMatchObject({ status: "deferred", stateAfter: "backfilling", rowsCopied: 0 });
    } finally {
      await close();
    }
    expect(await migrate("pause")).toMatchObject({ status: "ok", stateAfter: "backfilling" });
    await sql`update audit_log set actor = 'changed while paused' where id = 7`;
    expect(await migrate("run")).toMatchObject({ status: "paused", stateAfter: "backfilling", rowsCopied: 0, changesDrained: 0 });
    const [status] = await readMigrationStatus(ctx);
    expect(status).toMatchObject({ state: "backfilling", paused: true, pendingChanges: 1 });

    expect(await migrate("resume")).toMatchObject({ status: "ok" });
    const resumed = await migrate("run");
    expect(resumed).toMatchObject({ status: "ok", stateAfter: "verified", rowsCopied: SEED_ROWS, changesDrained: 1 });
    expect(await tableDifference(sql, "audit_log", "audit_log_partitioned")).toEqual({ onlyInFirst: 0, onlyInSecond: 0 });
  });

  it("gives up after its retries while a transaction holds the table, blocks no other query longer than about lock_timeout, and swaps later", async () => {
    // An application transaction that updated a row and is still open: ROW EXCLUSIVE on audit_log.
    const blocker = await sql.reserve();
    const readerSql = postgres(url, { max: 1, onnotice: () => {} });
    const latenciesMs: number[] = [];
    let reading = true;
    try {
      await blocker`begin`;
      await blocker`update audit_log set actor = 'held' where id = 1`;
      const reads = (async () => {
        for (let i = 1; reading; i++) {
          const started = performance.now();
          await readerSql`select count(*) from audit_log where id = ${i}`;
          latenciesMs.push(performance.now() - started);
        }
      })();
      const started = Date.now();
      const failed = await migrate("swap");
      const swapMs = Date.now() - started;
      reading = false;
      await reads;

      expect(failed).toMatchObject({ status: "failed", stateBefore: "verified", stateAfter: "verified" });
      expect(failed.message).toMatch(
        new RegExp(`^swap public\\.audit_log for its partitioned copy .*: gave up after 2 attempts with lock_timeout ${LOCK_TIMEOUT_MS} ms \\(55P03: .*lock timeout\\); another session holds a conflicting lock`),
      );
      // Two attempts of lock_timeout each (plus a backoff between them), and SELECTs ran all along:
      // each one queued behind the swap's ACCESS EXCLUSIVE request waited no longer than that request.
      expect(swapMs).toBeGreaterThanOrEqual(2 * LOCK_TIMEOUT_MS);
      const longest = Math.max(...latenciesMs);
      expect(latenciesMs.length).toBeGreaterThan(20);
      expect(longest).toBeGreaterThan(LOCK_TIMEOUT_MS / 4); // some SELECT did queue behind the swap
      expect(longest).toBeLessThan(LOCK_TIMEOUT_MS + 250);
    } finally {
      reading = false;
      await blocker`rollback`;
      blocker.release();
      await readerSql.end({ timeout: 5 });
    }

    // Nothing changed: still verified, not swapped, capture forward; the failure is on the record.
    expect(await migrationState(sql)).toBe("verified");
    expect(await relkind(sql, "audit_log")).toBe("r");
    expect(await relkind(sql, "audit_log_retired")).toBeNull();
    expect(await partkeeperTriggers(sql, "audit_log")).toEqual([`partkeeper_${MIGRATION_ID}_forward`, `partkeeper_${MIGRATION_ID}_forward_truncate`]);
    const [status] = await readMigrationStatus(ctx);
    expect(status!.lastError).toMatch(/gave up after 2 attempts/);

    await sql`update audit_log set actor = 'after the failed swap' where id = 2`;
    const [copyGrant] = await sql`select has_table_privilege(${reader}, 'audit_log_partitioned', 'SELECT') as granted`;
    expect(copyGrant!.granted).toBe(false); // the swap gives the source's grants
    expect(await migrate("swap")).toMatchObject({ status: "ok", stateAfter: "swapped" });
    expect(await relkind(sql, "audit_log")).toBe("p");
    expect(await tableDifference(sql, "audit_log", "audit_log_retired")).toEqual({ onlyInFirst: 0, onlyInSecond: 0 });
    const [row] = await sql`select actor from audit_log where id = 2`;
    expect(row!.actor).toBe("after the failed swap");
  });

  it("prunes a query on the partition key to one partition", async () => {
    const [plan] = await sql`
      explain (format json) select * from audit_log
      where created_at >= '2026-09-01 00:00:00+00' and created_at < '2026-09-02 00:00:00+00'`;
    const relations: string[] = [];
    const walk = (node: Record<string, unknown>) => {
      if (typeof node["Relation Name"] === "string") relations.push(node["Relation Name"]);
      for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) walk(child);
    };
    walk((plan!["QUERY PLAN"] as Array<{ Plan: Record<string, unknown> }>)[0]!.Plan);
    expect(relations).toEqual(["audit_log_p2026_09"]);
    // There were others to prune: every month from the first row to the premade ones, and the default.
    const [partitions] = await sql`select count(*)::int as n from pg_inherits where inhparent = 'audit_log'::regclass`;
    expect(partitions!.n).toBe(7); // 2026-08 .. 2027-01 and the default
  });

  it("carries the identity sequence: a new row gets a key above every existing one", async () => {
    const [before] = await sql`select max(id)::int8 as max from audit_log`;
    const [inserted] = await sql`insert into audit_log (created_at, actor) values ('2026-11-21 12:00:00+00', 'after the swap') returning id`;
    expect(BigInt(inserted!.id)).toBeGreaterThan(BigInt(before!.max));
    const [identity] = await sql`select attidentity::text as kind from pg_attribute where attrelid = 'audit_log'::regclass and attname = 'id'`;
    expect(identity!.kind).toBe("a");
  });

  it("carries the grants of the source", async () => {
    const [privileges] = await sql`
      select has_table_privilege(${reader}, 'audit_log', 'SELECT') as now,
             has_table_privilege(${reader}, 'audit_log', 'INSERT') as insert,
             has_table_privilege(${reader}, 'audit_log_retired', 'SELECT') as retired`;
    expect(privileges).toEqual({ now: true, insert: false, retired: true });
  });
});

describe("migrate with the longest migration id", async () => {
  const { url, sql } = await createTestDatabase();
  await createAuditLog(sql, { rows: 3000 });
  await sql`create table seed as select * from audit_log`;
  const id = "a".repeat(48);
  const ctx = await testJobContext(url, auditLogConfig({ id, swap: "auto" }));
  const migrate = async (action: MigrateAction) => (await runMigrations(ctx, { action, id, dryRun: false, force: true })).migrations[0]!;
  const triggers = (direction: string) => [new RegExp(`^partkeeper_a{24}_[0-9a-f]{8}_${direction}$`), new RegExp(`^partkeeper_a{24}_[0-9a-f]{8}_${direction}_truncate$`)];

  // Regression: Postgres cut both capture trigger names of an id of 44 or more characters to the
  // same 63 bytes, so installing capture failed and the migration never left `preparing`.
  it("goes through swap, rollback, swap again and finalize", async () => {
    expect(await migrate("run")).toMatchObject({ status: "ok", stateAfter: "swapped" });
    expect(await partkeeperTriggers(sql, "audit_log")).toEqual(triggers("reverse").map((t) => expect.stringMatching(t)));
    expect(await migrate("rollback")).toMatchObject({ status: "ok", stateAfter: "rolled-back" });
    expect(await partkeeperTriggers(sql, "audit_log")).toEqual(triggers("forward").map((t) => expect.stringMatching(t)));
    await sql`update audit_log set actor = 'between' where id = 3`;
    expect(await migrate("swap")).toMatchObject({ status: "ok", stateAfter: "swapped" });
    expect(await migrate("finalize")).toMatchObject({ status: "ok", stateAfter: "finalized" });

    expect(await relkind(sql, "audit_log")).toBe("p");
    expect(await relkind(sql, "audit_log_retired")).toBeNull();
    expect(await partkeeperTriggers(sql, "audit_log")).toEqual([]);
    const [captures] = await sql`select count(*)::int as n from pg_class where relnamespace = 'partkeeper'::regnamespace and relname like ${`${id}.%`}`;
    expect(captures!.n).toBe(0);
    await sql`update seed set actor = 'between', n = length('between') where id = 3`; // seed's n is a plain copy of the generated column
    expect(await tableDifference(sql, "audit_log", "seed")).toEqual({ onlyInFirst: 0, onlyInSecond: 0 });
  });
});
