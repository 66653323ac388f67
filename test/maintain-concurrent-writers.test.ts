import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { runJob } from "@partkeeper/core";
import { createTestDatabase } from "./helpers.ts";
import { partitionNames, testJobContext } from "./job-context.ts";

/**
 * DESIGN rule 12: application writes never fail because of partkeeper. Creating a partition via
 * the default partition moves rows out of it in one transaction; a steady writer inserting and
 * updating through the parent while that happens may wait, but must never see an error.
 */
describe("maintain with a steady concurrent writer", async () => {
  const { url, sql } = await createTestDatabase();
  const seeded = 6000;
  await sql.unsafe(`
    create table "Orders" (id bigint generated always as identity, "placedAt" timestamptz not null,
      writer text not null, updates int not null default 0) partition by range ("placedAt");
    create table "Orders_p2026_10" partition of "Orders" for values from ('2026-10-01 00:00:00+00') to ('2026-11-01 00:00:00+00');
    create table "Orders_default" partition of "Orders" default;
    -- The clock's month (2026-11) and the next (2026-12) sit in the default partition: maintain moves them.
    insert into "Orders" ("placedAt", writer)
      select timestamptz '2026-11-01 00:00:00+00' + g * interval '10 minutes', 'seed' from generate_series(0, ${seeded - 1}) g;
  `);
  const ctx = await testJobContext(url, { tables: [{ table: "Orders", strategy: "range-time", interval: "month", premake: 2 }] });

  it("lets writers wait but never fail, and loses no committed row", async () => {
    const writerSql = postgres(url, { max: 8, onnotice: () => {} });
    const errors: string[] = [];
    const inserted: Array<{ writer: string; at: string }> = [];
    const updatesById = new Map<number, number>();
    let stop = false;
    const day = (month: number, i: number) => new Date(Date.UTC(2026, month, 1 + (i % 28), i % 24)).toISOString();
    // Months 9 (existing partition), 10 (moved now), 11 (premade via the default); updates, deletes and key updates into 10.
    const writer = async (name: string, step: (i: number) => Promise<void>) => {
      for (let i = 0; !stop; i++) {
        try {
          await step(i);
        } catch (error) {
          errors.push(`${name}: ${(error as Error).message}`);
        }
      }
    };
    const insertInto = (month: number) => (name: string) =>
      writer(name, async (i) => {
        const at = day(month, i);
        await writerSql`insert into "Orders" ("placedAt", writer) values (${at}, ${name})`;
        inserted.push({ writer: name, at });
      });
    const writers = [
      insertInto(10)("nov-a"),
      insertInto(10)("nov-b"),
      insertInto(10)("nov-c"),
      insertInto(9)("oct"),
      insertInto(11)("dec"),
      writer("update", async (i) => {
        const id = 1 + ((i * 97) % seeded);
        const [row] = await writerSql`update "Orders" set updates = updates + 1 where id = ${id} returning id`;
        if (row) updatesById.set(id, (updatesById.get(id) ?? 0) + 1);
      }),
      writer("delete", async (i) => {
        // DELETE through the parent of a row in the month being moved, right after inserting it.
        const [row] = await writerSql`insert into "Orders" ("placedAt", writer) values (${day(10, i)}, 'delete') returning id`;
        const deleted = await writerSql`delete from "Orders" where id = ${row!.id}`;
        if (deleted.count !== 1) errors.push(`delete: row ${row!.id} not found`);
      }),
      writer("move-key", async (i) => {
        // Cross-partition UPDATE through the parent: a row of October moves into the month being moved.
        const [row] = await writerSql`insert into "Orders" ("placedAt", writer) values (${day(9, i)}, 'move-key') returning id`;
        await writerSql`update "Orders" set "placedAt" = ${day(10, i)} where id = ${row!.id}`;
        inserted.push({ writer: "move-key", at: day(10, i) });
      }),
    ];
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const summary = await runJob(ctx, { job: "maintain", dryRun: false });
      await new Promise((resolve) => setTimeout(resolve, 200));
      stop = true;
      await Promise.all(writers);

      expect(summary.parents[0]!.status).toBe("ok");
      const moved = summary.parents[0]!.actions.map((a) => [a.action.partition.name, a.rowsMoved ?? 0] as const);
      expect(moved.map(([name]) => name)).toEqual(["Orders_p2026_11", "Orders_p2026_12", "Orders_p2027_01"]);
      expect(moved[0]![1]).toBeGreaterThanOrEqual(4000); // 2026-11 rows of the seed, plus what the writers added first
      expect(errors).toEqual([]);
      expect(inserted.filter((r) => r.writer.startsWith("nov")).length).toBeGreaterThan(0);

      // Every committed row is present, in the partition its key belongs to; none is left in the default.
      const rows = await sql`select writer, "placedAt", tableoid::regclass::text as p from "Orders" where writer not in ('seed', 'delete')`;
      expect(rows.length).toBe(inserted.length);
      for (const r of rows) {
        const month = (r.placedAt as Date).toISOString().slice(0, 7).replace("-", "_");
        expect(r.p).toBe(`"Orders_p${month}"`);
      }
      const [seed] = await sql`select count(*)::int as n, count(*) filter (where tableoid = '"Orders_default"'::regclass)::int as in_default from "Orders" where writer = 'seed'`;
      expect(seed).toEqual({ n: seeded, in_default: 0 });
      expect(await sql`select id from "Orders" where writer = 'delete'`).toHaveLength(0);
      const updated = await sql`select id::int, updates from "Orders" where updates > 0`;
      expect(new Map(updated.map((r) => [r.id as number, r.updates as number]))).toEqual(updatesById);
      expect(await partitionNames(sql, "public", "Orders")).toEqual([
        "Orders_default",
        "Orders_p2026_10",
        "Orders_p2026_11",
        "Orders_p2026_12",
        "Orders_p2027_01",
      ]);
    } finally {
      stop = true;
      await Promise.all(writers);
      await writerSql.end({ timeout: 5 });
    }
  });
});
