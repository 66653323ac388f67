import { describe, expect, it } from "vitest";
import { runMigrations, type MigrationOutcome } from "@partkeeper/core";
import { createTestDatabase } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";
import { migrationState, partkeeperTriggers, relkind } from "./migrate-fixtures.ts";
import { createBlog, TRANSFORM_ID, transformConfig, transformSpec } from "./transform-fixture.ts";

/**
 * Bad transform specs, one each: the run fails with a message naming the problem, and nothing is
 * cut over (a spec refused before prepare leaves nothing behind).
 */

async function runOnce(overrides: Record<string, unknown>, setup?: (sql: Awaited<ReturnType<typeof createTestDatabase>>["sql"]) => Promise<unknown>) {
  const { url, sql } = await createTestDatabase();
  await createBlog(sql, 500);
  await setup?.(sql);
  const ctx = await testJobContext(url, transformConfig(overrides));
  const outcome: MigrationOutcome = (await runMigrations(ctx, { action: "run", id: TRANSFORM_ID, dryRun: false })).migrations[0]!;
  return { sql, ctx, outcome };
}

describe("transform refusals", () => {
  it("detects a transform that is not idempotent (a rerun of a batch changes the targets) and copies nothing", async () => {
    const spec = transformSpec() as { transform: string[] };
    // Without its delete, a rerun appends: the counters double (no key stops it) ...
    const appending = spec.transform.filter((s) => !s.startsWith("delete from author_stats"));
    const { sql, outcome } = await runOnce({ transform: appending.map((s) => s.replace("author_stats (author_id int primary key", "author_stats (author_id int")) , prepare: (transformSpec() as { prepare: string[] }).prepare.map((s) => s.replace("author_id int primary key", "author_id int")) });
    expect(outcome).toMatchObject({ status: "failed", stateAfter: "backfilling", rowsCopied: 0 });
    expect(outcome.message).toMatch(/the transform is not idempotent: running the batch of driving keys \(1 \.\. \d+\) twice changed check "stats" of the targets from \[\{"authors":"\d+"/);
    expect(await sql`select count(*)::int as n from author_stats`).toEqual([{ n: 0 }]);
    // ... or, where a key stops it, fails.
    const { outcome: failing } = await runOnce({ transform: spec.transform.filter((s) => !s.startsWith("delete from post_v2")) });
    expect(failing.message).toMatch(/not idempotent: running the batch of driving keys \(1 \.\. \d+\) twice failed: duplicate key value violates unique constraint/);
  });

  it("keeps a migration whose targets differ from its sources from cutting over, naming the first differing key range and check", async () => {
    const spec = transformSpec() as { transform: string[] };
    const lossy = spec.transform.map((s) => s.replace("from post p where p.author_id = any($1)", "from post p where p.author_id = any($1) and p.id % 97 <> 0"));
    const { sql, ctx, outcome } = await runOnce({ transform: lossy, swap: "auto" });
    expect(outcome).toMatchObject({ status: "failed", stateAfter: "backfilled" });
    expect(outcome.message).toMatch(/verification found the targets different from the sources in driving key ranges \(-inf, 500\] \(500 keys\): posts: sources \{"rows":"\d+"/);
    expect(outcome.message).toContain("nothing was cut over");
    const swap = (await runMigrations(ctx, { action: "swap", id: TRANSFORM_ID, dryRun: false })).migrations[0]!;
    expect(swap).toMatchObject({ status: "failed", stateAfter: "backfilled" });
    expect(await relkind(sql, "post")).toBe("r");
  });

  it("refuses a spec naming a table that does not exist, before creating anything", async () => {
    const spec = transformSpec() as { capture: unknown[] };
    const { sql, outcome } = await runOnce({ capture: [...spec.capture, { table: "post_comment", drivingKeys: "select author_id from changed" }] });
    expect(outcome).toMatchObject({ status: "failed", stateAfter: "new" });
    expect(outcome.message).toBe(`migration ${TRANSFORM_ID}: capture.3.table names public.post_comment, which does not exist`);
    expect(await relkind(sql, "post_v2")).toBeNull();
    expect(await migrationState(sql, TRANSFORM_ID)).toBeNull();
  });

  it("refuses transform SQL naming a column that does not exist: prepare creates nothing", async () => {
    const spec = transformSpec() as { transform: string[] };
    const { sql, outcome } = await runOnce({ transform: spec.transform.map((s) => s.replace("p.title,", "p.headline,")) });
    expect(outcome).toMatchObject({ status: "failed", stateAfter: "new" });
    expect(outcome.message).toBe(`migration ${TRANSFORM_ID}: prepare failed and created nothing: column p.headline does not exist`);
    expect(await relkind(sql, "post_v2")).toBeNull();
    expect(await partkeeperTriggers(sql, "post")).toEqual([]);
  });

  it("refuses a capture mapping naming a column that does not exist", async () => {
    const spec = transformSpec() as { capture: Array<{ table: string; drivingKeys: string }> };
    const { outcome } = await runOnce({ capture: spec.capture.map((c) => (c.table === "post" ? { ...c, drivingKeys: "select writer_id from changed" } : c)) });
    expect(outcome).toMatchObject({ status: "failed", stateAfter: "new" });
    expect(outcome.message).toMatch(/prepare failed and created nothing: column "writer_id" does not exist/);
  });

  it("refuses a driving key that is not unique", async () => {
    const { sql, outcome } = await runOnce({ driving: { table: "post_tag", key: "tag" } });
    expect(outcome).toMatchObject({ status: "failed", stateAfter: "new" });
    expect(outcome.message).toBe(
      `migration ${TRANSFORM_ID}: driving key public.post_tag.tag is not unique: batches are sets of its values, so it needs a primary key or unique index on (tag) alone, without a WHERE clause`,
    );
    expect(await relkind(sql, "post_v2")).toBeNull();
  });

  it("refuses rollback when the spec gives no reverse mapping", async () => {
    const { ctx, outcome } = await runOnce({ reverse: undefined, swap: "auto" });
    expect(outcome, outcome.message).toMatchObject({ status: "ok", stateAfter: "swapped" });
    const rollback = (await runMigrations(ctx, { action: "rollback", id: TRANSFORM_ID, dryRun: false })).migrations[0]!;
    expect(rollback).toMatchObject({ status: "failed", stateAfter: "swapped" });
    expect(rollback.message).toMatch(/has no reverse mapping \(spec field reverse\).*rollback is refused/);
  });
});
