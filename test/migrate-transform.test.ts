import { describe, expect, it } from "vitest";
import { readMigrationStatus, runMigrations, type MigrateAction, type MigrationOutcome } from "@partkeeper/core";
import { createTestDatabase } from "./helpers.ts";
import { partitionNames, testJobContext } from "./job-context.ts";
import { migrationState, partkeeperTriggers, relkind, tableDifference } from "./migrate-fixtures.ts";
import { createBlog, TRANSFORM_ID, transformConfig } from "./transform-fixture.ts";

/**
 * A transform migration end to end on the engine (test/transform-fixture.ts): prepare creates the
 * targets and their partitions, capture maps writes of every source table to driving keys, the
 * backfill and drains keep the targets equal to what the transform makes of the sources, the checks
 * verify it, the cutover leaves compatibility views, writes to the new tables reach the retired ones
 * through the reverse transform, rollback restores the old tables, finalize drops them.
 */

const AUTHORS = 3_000;

describe("migrate (transform)", async () => {
  const { url, sql } = await createTestDatabase();
  await createBlog(sql, AUTHORS);
  const ctx = await testJobContext(url, transformConfig());
  const migrate = async (action: MigrateAction): Promise<MigrationOutcome> => (await runMigrations(ctx, { action, id: TRANSFORM_ID, dryRun: false })).migrations[0]!;
  const oldQuery = "select p.id, p.title, array(select t.tag from post_tag t where t.post_id = p.id order by t.tag) as tags from post p where p.author_id = 42 order by p.id";

  it("plans without changing anything", async () => {
    const summary = await runMigrations(ctx, { action: "run", id: TRANSFORM_ID, dryRun: true });
    const text = summary.migrations[0]!.steps.flatMap((s) => [s.description, ...s.statements]).join("\n");
    expect(text).toContain("create table post_v2");
    expect(text).toContain('create or replace function "partkeeper"."fold-post-tags.transform"(integer[])');
    expect(text).toContain("referencing new table as partkeeper_new");
    expect(await relkind(sql, "post_v2")).toBeNull();
  });

  it("backfills with writes to every source captured, verifies, and waits for a manual cutover", async () => {
    const before = await sql.unsafe(oldQuery);
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const author = 1 + ((i * 7919) % AUTHORS);
        await sql.begin(async (tx) => {
          const [post] = await tx`insert into post (author_id, title, created_at) values (${author}, ${"written during backfill " + i}, now()) returning id`;
          await tx`insert into post_tag values (${post!.id}, 'live')`;
          await tx`delete from post_tag where post_id = (select min(id) from post where author_id = ${1 + ((i * 104729) % AUTHORS)}) and tag = 'tag1'`;
        });
        writes++;
      }
    })();
    const outcome = await migrate("run");
    writing = false;
    await writer;
    expect(outcome, outcome.message).toMatchObject({ status: "ok", stateAfter: "verified" });
    expect(outcome.rowsCopied).toBe(AUTHORS);
    expect(writes).toBeGreaterThan(0);
    // The writer's last transactions came after the run: the next run applies them.
    expect(await migrate("run")).toMatchObject({ status: "ok", stateAfter: "verified" });
    expect(await partitionNames(sql, "public", "post_v2")).toContain("post_v2_p2026_03");
    expect(await partkeeperTriggers(sql, "post_tag")).toHaveLength(4);
    // Whatever the writer did, the targets are what the transform makes of the sources now.
    expect(await tableDifference(sql, "post", "post_v2", "id, author_id, title, created_at")).toEqual({ onlyInFirst: 0, onlyInSecond: 0 });
    expect(await tableDifference(sql, "post_tag", "(select id as post_id, unnest(tags) as tag from post_v2) v", "post_id, tag")).toEqual({ onlyInFirst: 0, onlyInSecond: 0 });
    expect((await sql.unsafe(oldQuery)).length).toBeGreaterThanOrEqual(before.length);
  });

  it("cuts over to compatibility views that answer the old queries with the same rows", async () => {
    const before = await sql.unsafe(oldQuery);
    const outcome = await migrate("swap");
    expect(outcome, outcome.message).toMatchObject({ status: "ok", stateAfter: "swapped" });
    expect(await relkind(sql, "post")).toBe("v");
    expect(await relkind(sql, "post_tag")).toBe("v");
    expect(await relkind(sql, "post_retired")).toBe("r");
    expect(await sql.unsafe(oldQuery)).toEqual(before);
    expect(await partkeeperTriggers(sql, "post_retired")).toEqual([]);
    expect(await partkeeperTriggers(sql, "post_v2")).toHaveLength(4);
  });

  it("replays writes made to the new tables into the retired ones, and rolls back to them", async () => {
    await sql`insert into post_v2 values (900001, 42, 'after cutover', '{x,y}', now())`;
    await sql`update post_v2 set title = 'renamed after cutover' where id = (select min(id) from post_retired where author_id = 43)`;
    const run = await migrate("run");
    expect(run).toMatchObject({ status: "ok", stateAfter: "swapped" });
    expect(await sql`select title from post_retired where id = 900001`).toEqual([{ title: "after cutover" }]);
    const before = await sql.unsafe(oldQuery);
    const rolled = await migrate("rollback");
    expect(rolled).toMatchObject({ status: "ok", stateAfter: "rolled-back" });
    expect(await relkind(sql, "post")).toBe("r");
    expect(await sql.unsafe(oldQuery)).toEqual(before);
    expect(await sql`select tag from post_tag where post_id = 900001 order by tag`).toEqual([{ tag: "x" }, { tag: "y" }]);
    expect(await tableDifference(sql, "post", "post_v2", "id, author_id, title, created_at")).toEqual({ onlyInFirst: 0, onlyInSecond: 0 });
  });

  it("cuts over again and finalizes: the retired tables and partkeeper's capture go, targets and views stay", async () => {
    const swap = await migrate("swap");
    expect(swap, swap.message).toMatchObject({ status: "ok", stateAfter: "swapped" });
    expect(await migrate("finalize")).toMatchObject({ status: "failed", message: expect.stringContaining("--force") });
    const finalized = await runMigrations(ctx, { action: "finalize", id: TRANSFORM_ID, dryRun: false, force: true });
    expect(finalized.migrations[0]).toMatchObject({ status: "ok", stateAfter: "finalized" });
    expect(await relkind(sql, "post_retired")).toBeNull();
    expect(await relkind(sql, "post")).toBe("v");
    expect(await partkeeperTriggers(sql, "post_v2")).toEqual([]);
    const [leftovers] = await sql`select count(*)::int as n from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'partkeeper' and p.proname like ${TRANSFORM_ID + "%"}`;
    expect(leftovers!.n).toBe(0);
    expect(await migrationState(sql, TRANSFORM_ID)).toBe("finalized");
    const [status] = await readMigrationStatus(ctx);
    expect(status).toMatchObject({ state: "finalized", pendingChanges: null });
  });
});
