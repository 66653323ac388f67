import { describe, expect, it } from "vitest";
import { runMigrations } from "@partkeeper/core";
import { verifyCopy } from "../packages/core/src/migrate/verify.ts";
import { createTestDatabase } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";

/**
 * Verification before the swap (DESIGN rule 10): a copy that differs from its source in one row is
 * found, named by key range, and nothing swaps; a verification cut short by the deadline continues
 * from the last range it compared.
 */
describe("migrate verify", async () => {
  const { url, sql } = await createTestDatabase();
  await sql.unsafe(`
    create table ledger (id int primary key, booked_on date not null, amount numeric(12,2) not null, note text);
    insert into ledger select g, date '2026-01-01' + (g % 300), g * 1.25, case when g % 7 = 0 then null else 'n' || g end
      from generate_series(1, 3000) g;
  `);
  const ctx = await testJobContext(url, {
    tables: [{ table: "ledger", strategy: "range-time", interval: "month", premake: 1 }],
    migrations: [{ id: "partition-ledger", kind: "partition-table", table: "ledger", column: "booked_on", swap: "manual" }],
  });
  const target = {
    source: { schema: "public", name: "ledger" },
    target: { schema: "public", name: "ledger_partitioned" },
    keys: [{ name: "id", type: "integer" }],
    capture: { id: "partition-ledger", direction: "forward" as const, watched: { schema: "public", name: "ledger" }, keys: [{ name: "id", type: "integer" }] },
  };

  it("runs to verified, then finds a changed value in the copy, names its range and refuses to swap", async () => {
    const run = await runMigrations(ctx, { action: "run", dryRun: false });
    expect(run.migrations[0]).toMatchObject({ status: "ok", stateAfter: "verified" });

    // A change made behind partkeeper's back (not through the source, so not captured).
    await sql`update ledger_partitioned set amount = amount + 0.01 where id = 2345`;
    const verify = await runMigrations(ctx, { action: "verify", id: "partition-ledger", dryRun: false });
    expect(verify.ok).toBe(false);
    expect(verify.migrations[0]!.message).toMatch(/different from public\.ledger in key ranges \(-inf, \+inf\]: source 3000 rows, copy 3000/);

    const swap = await runMigrations(ctx, { action: "swap", id: "partition-ledger", dryRun: false });
    // Verified earlier, so swap itself does not verify again: the difference must have been kept in mind.
    expect(swap.migrations[0]!.stateAfter).not.toBe("swapped");
  });

  it("names the first differing ranges among many, and continues a verification cut short by the deadline", async () => {
    await sql`update ledger_partitioned set amount = (select amount from ledger where id = 2345) where id = 2345`;
    await sql`delete from ledger_partitioned where id = 1500`;
    const result = await verifyCopy(sql, target, { from: null, deadline: Number.POSITIVE_INFINITY, rangeRows: 500 });
    expect(result.ok).toBe(false);
    expect(result.differing).toEqual([{ from: ["1000"], to: ["1500"], sourceRows: 500, targetRows: 499, equal: false }]);
    await sql`insert into ledger_partitioned select * from ledger where id = 1500`;

    const first = await verifyCopy(sql, target, { from: null, deadline: 0, rangeRows: 500 });
    expect(first).toMatchObject({ ok: true, complete: false, next: ["500"], ranges: 1, rows: 500 });
    const rest = await verifyCopy(sql, target, { from: first.next, deadline: Number.POSITIVE_INFINITY, rangeRows: 500 });
    expect(rest).toMatchObject({ ok: true, complete: true, next: null, ranges: 6, rows: 2500 });
  });
});
