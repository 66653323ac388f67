import { spawn } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { runMigrations, type ConfigInput, type JobContext, type MigrationOutcome } from "@partkeeper/core";
import example from "../examples/todo-archive/partkeeper.config.ts";
import { createTodoSchema, seedTodos } from "../examples/todo-archive/seed.ts";
import { createTestDatabase, useTestS3 } from "./helpers.ts";
import { partitionNames, testJobContext } from "./job-context.ts";

/**
 * The recurring move (kind `move`) on the todo-archive example (examples/todo-archive): completed
 * todos go from the hash-partitioned `todo` to the monthly `todo_archive`, a batch per transaction.
 * Each scenario gets its own database with the example's schema and 20,000 seeded todos. Checked
 * after every scenario: each row is in exactly one of the two tables, once, with the contents it had
 * (md5 of the rows in key order, or the writers' log of what they committed).
 */

const SEED_ROWS = 20_000;
const ID = "archive-completed-todos";
const MATCH = "completed and completed_at < now() - interval '30 days'";
const COLUMNS = "id, list_id, title, completed, completed_at, created_at";
const CHILD = path.resolve(import.meta.dirname, "migrate-child.ts");
const location = useTestS3();

type MoveInput = Partial<(typeof example)["migrations"][number]> & Record<string, unknown>;

/** The example's config (archive location of this file), its migration changed by `move`. */
function moveConfig(move: MoveInput = {}): ConfigInput {
  return { ...example, archive: { location }, migrations: [{ ...example.migrations[0], ...move }] } as ConfigInput;
}

/** A fresh database with the example's schema and seed, and a job context on it whose clock is `now`. */
async function scenario(config: ConfigInput = moveConfig(), now = new Date()) {
  const db = await createTestDatabase();
  await createTodoSchema(db.sql);
  const seed = await seedTodos(db.sql, SEED_ROWS);
  const ctx = await testJobContext(db.url, config, { now });
  return { ...db, seed, ctx, now };
}

/** Row count and md5 of `table`'s rows matching `where`, as text in key order. */
async function digest(sql: postgres.Sql, table: string, where = "true"): Promise<{ rows: number; md5: string }> {
  const [row] = await sql.unsafe<{ rows: number; md5: string }[]>(
    `select count(*)::int as rows, md5(coalesce(string_agg(t::text, ',' order by id), '')) as md5 from (select ${COLUMNS} from ${table} where ${where}) t`,
  );
  return row!;
}

/** Rows over both tables and distinct ids among them (equal: no row is in both, or twice in one). */
async function placement(sql: postgres.Sql): Promise<{ rows: number; ids: number }> {
  const [row] = await sql<{ rows: number; ids: number }[]>`
    select count(*)::int as rows, count(distinct id)::int as ids from (select id from todo union all select id from todo_archive) x`;
  return row!;
}

async function run(ctx: JobContext, options: { action?: "run" | "swap" | "verify" | "rollback"; dryRun?: boolean; id?: string } = {}): Promise<MigrationOutcome> {
  const summary = await runMigrations(ctx, { action: options.action ?? "run", dryRun: options.dryRun ?? false, id: options.id ?? (options.action && options.action !== "run" ? ID : undefined) });
  return summary.migrations[0]!;
}

const matching = (sql: postgres.Sql) => digest(sql, "todo", MATCH);
const day = 86_400_000;

describe("migrate move: completed todos into todo_archive", async () => {
  const [a, b, c, d, e] = await Promise.all([scenario(), scenario(moveConfig({ batchSize: 200 })), scenario(), scenario(), scenario()]);

  it("plans without changing anything, then moves every matching row exactly once, creating the archive's partitions; a second run waits for `every`", async () => {
    const { sql, ctx, now } = a;
    const before = await matching(sql);
    const rest = await digest(sql, "todo", `not (${MATCH})`);
    expect(before.rows).toBeGreaterThan(SEED_ROWS / 3);

    // migrate plan: the partitions and the batch statement, nothing done.
    const plan = await run(ctx, { dryRun: true });
    expect(plan).toMatchObject({ status: "ok", stateAfter: "new", rowsCopied: 0 });
    const sqlText = plan.steps.flatMap((s) => s.statements).join("\n");
    expect(sqlText).toContain(`CREATE TABLE "public"."todo_archive_p`);
    expect(sqlText).toMatch(/with picked as \(\n-- {3}select "id" from "public"\."todo" where \(completed and completed_at < now\(\) - interval '30 days'\) order by "id" limit \$1 for update skip locked/);
    expect(await matching(sql)).toEqual(before);
    expect(await partitionNames(sql, "public", "todo_archive")).toEqual([]);
    expect((await sql`select to_regclass('partkeeper.data_migration') as t`)[0]!.t).toBeNull();

    const first = await run(ctx);
    expect(first, first.message).toMatchObject({ status: "ok", stateBefore: "new", stateAfter: "recurring", rowsCopied: before.rows });
    expect(first.message).toMatch(/^pass complete: \d+ rows moved; next pass after /);
    expect(await digest(sql, "todo_archive")).toEqual(before);
    expect(await digest(sql, "todo")).toEqual(rest);
    expect(await placement(sql)).toEqual({ rows: SEED_ROWS, ids: SEED_ROWS });

    // Monthly partitions from the oldest completed todo through premake (2) after the clock's month.
    const [range] = await sql<{ first: string }[]>`select to_char(min(completed_at) at time zone 'UTC', 'YYYY_MM') as first from todo_archive`;
    const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1)).toISOString().slice(0, 7).replace("-", "_");
    const partitions = await partitionNames(sql, "public", "todo_archive");
    expect(partitions[0]).toBe(`todo_archive_p${range!.first}`);
    expect(partitions.at(-1)).toBe(`todo_archive_p${last}`);

    // A todo completed 40 days ago, inserted now: the next run is within `every` and leaves it.
    await sql`insert into todo (list_id, title, completed, completed_at) values (1, 'late', true, now() - interval '40 days')`;
    const second = await run(ctx);
    expect(second).toMatchObject({ status: "ok", stateBefore: "recurring", rowsCopied: 0 });
    expect(second.message).toMatch(/^pass complete; next pass after /);
    expect((await matching(sql)).rows).toBe(1);

    // A day later by the job's clock: the next pass moves it.
    const third = await run({ ...ctx, clock: () => new Date(now.getTime() + day + 1000) });
    expect(third).toMatchObject({ status: "ok", rowsCopied: 1 });
    expect((await matching(sql)).rows).toBe(0);
    expect(await placement(sql)).toEqual({ rows: SEED_ROWS + 1, ids: SEED_ROWS + 1 });
    const [record] = await sql`select state, rows_copied::int as rows, watermark from partkeeper.data_migration where id = ${ID}`;
    expect(record).toEqual({ state: "recurring", rows: before.rows + 1, watermark: null });
  });

  it("with writers inserting, completing and un-completing todos meanwhile: no writer fails, every row ends in exactly one table with its last committed contents", async () => {
    const { sql, url, ctx, now } = b;
    const WRITERS = 4;
    const clients = Array.from({ length: WRITERS }, () => postgres(url, { max: 1, onnotice: () => {} }));
    const log = new Map<number, string>();
    const errors: string[] = [];
    const ops = { insert: 0, complete: 0, uncomplete: 0, hold: 0 };
    let stopping = false;
    const text = (r: Record<string, unknown>) =>
      JSON.stringify([Number(r.id), Number(r.list_id), r.title, r.completed, (r.completed_at as Date | null)?.toISOString() ?? null, (r.created_at as Date).toISOString()]);
    const record = (rows: ReadonlyArray<Record<string, unknown>>) => rows.forEach((r) => log.set(Number(r.id), text(r)));
    await sql.unsafe(`create table seed_copy as select ${COLUMNS} from todo`);

    // Writer w owns the seed ids = w (mod WRITERS) and the rows it inserts, so its log is exact.
    const writer = async (w: number) => {
      const db = clients[w]!;
      const own: number[] = [];
      for (let i = 0; !stopping; i++) {
        const pick = () => (own.length && i % 3 === 0 ? own[i % own.length]! : WRITERS * (1 + ((i * 7919 + w * 104_729) % (SEED_ROWS / WRITERS - 1))) + w);
        try {
          switch (i % 4) {
            case 0: {
              const rows = await db`insert into todo (list_id, title, completed, completed_at) values (${w}, ${`writer ${w} row ${i}`}, ${i % 8 === 0}, ${i % 8 === 0 ? new Date(Date.now() - 40 * day) : null}) returning ${db.unsafe(COLUMNS)}`;
              record(rows);
              own.push(Number(rows[0]!.id));
              ops.insert++;
              break;
            }
            case 1:
              record(await db`update todo set completed = true, completed_at = now() - interval '35 days' where id = ${pick()} and not completed returning ${db.unsafe(COLUMNS)}`);
              ops.complete++;
              break;
            case 2:
              record(await db`update todo set completed = false, completed_at = null where id = ${pick()} and completed returning ${db.unsafe(COLUMNS)}`);
              ops.uncomplete++;
              break;
            default:
              // Holds a row lock a while, as a slow request would: the move skips the row.
              await db.begin(async (tx) => {
                record(await tx`update todo set title = title || '!' where id = ${pick()} returning ${tx.unsafe(COLUMNS)}`);
                await sleep(5);
              });
              ops.hold++;
          }
        } catch (error) {
          errors.push(`writer ${w}: ${(error as Error).message}`);
        }
      }
    };
    const writers = clients.map((_, w) => writer(w));
    await sleep(100);
    const outcome = await run(ctx);
    await sleep(100);
    stopping = true;
    await Promise.all(writers);
    await Promise.all(clients.map((cl) => cl.end({ timeout: 5 })));

    expect(errors).toEqual([]);
    expect(outcome, outcome.message).toMatchObject({ status: "ok" });
    expect(outcome.rowsCopied).toBeGreaterThan(0);
    expect(ops.insert + ops.complete + ops.uncomplete + ops.hold).toBeGreaterThan(100);
    // What the pass skipped or what came to match later: the next pass (a day later) moves it.
    await run({ ...ctx, clock: () => new Date(now.getTime() + day + 1000) });
    expect((await matching(sql)).rows).toBe(0);

    const [{ max }] = (await sql`select max(id)::int as max from (select id from todo union all select id from todo_archive) x`) as unknown as [{ max: number }];
    const inserted = ops.insert;
    expect(await placement(sql)).toEqual({ rows: SEED_ROWS + inserted, ids: SEED_ROWS + inserted });
    expect(max).toBe(SEED_ROWS + inserted);
    // Every row a writer touched has the contents of its last committed write, in whichever table it is.
    const ids = [...log.keys()];
    const found = await sql.unsafe(`select ${COLUMNS} from todo where id = any($1) union all select ${COLUMNS} from todo_archive where id = any($1)`, [ids]);
    expect(found.length).toBe(ids.length);
    const mismatched = found.filter((r) => log.get(Number(r.id)) !== text(r));
    expect(mismatched).toEqual([]);
    // Rows no writer touched are as seeded.
    const [rest] = await sql.unsafe(`
      with now_rows as (select ${COLUMNS} from todo union all select ${COLUMNS} from todo_archive),
           a as (select * from now_rows where id <> all($1) except all select * from seed_copy where id <> all($1)),
           b as (select * from seed_copy where id <> all($1) except all select * from now_rows where id <> all($1))
      select (select count(*) from a)::int as extra, (select count(*) from b)::int as lost, (select count(*) from seed_copy where id <> all($1))::int as rows`, [ids]);
    expect(rest).toMatchObject({ extra: 0, lost: 0 });
    expect(rest!.rows).toBeGreaterThan(SEED_ROWS / 2);
    // Archived rows all matched when moved (un-completed ones stayed).
    expect((await digest(sql, "todo_archive", `not (${MATCH})`)).rows).toBe(0);
  });

  it("stops at the deadline after at least one batch (deferred), and the next run continues the pass after the last key moved", async () => {
    const { sql, ctx } = c;
    const before = await matching(sql);
    const first = await run({ ...ctx, deadline: Date.now() - 1 });
    expect(first).toMatchObject({ status: "deferred", rowsCopied: 1000 });
    expect(first.message).toMatch(/^deadline reached after 1000 rows: the next run continues the pass after id \d+/);
    const [record] = await sql`select watermark, pass_finished_at from partkeeper.data_migration where id = ${ID}`;
    expect(record!.pass_finished_at).toBeNull();
    const [{ last }] = (await sql`select max(id)::text as last from todo_archive`) as unknown as [{ last: string }];
    expect(record!.watermark).toEqual([last]);
    expect((await sql`select count(*)::int as n from todo_archive`)[0]!.n).toBe(1000);

    // The plan of a pass in progress continues after the watermark.
    const plan = await run(ctx, { dryRun: true });
    expect(plan.steps.flatMap((s) => s.statements).join("\n")).toContain(`and "id" > $2 order by "id"`);

    const second = await run(ctx);
    expect(second).toMatchObject({ status: "ok", rowsCopied: before.rows - 1000 });
    expect(await digest(sql, "todo_archive")).toEqual(before);
    expect(await placement(sql)).toEqual({ rows: SEED_ROWS, ids: SEED_ROWS });
  });

  it("refuses bad input before moving anything: a target lacking a column, a condition on a missing column, actions a move has not", async () => {
    const { sql, url } = d;
    const before = await digest(sql, "todo");
    await sql`create table todo_narrow (id bigint primary key, list_id bigint, completed boolean, completed_at timestamptz, created_at timestamptz)`;
    const narrow = await testJobContext(url, moveConfig({ id: "to-narrow", target: { table: "todo_narrow" } }));
    const lacking = await run(narrow);
    expect(lacking.status).toBe("failed");
    expect(lacking.message).toBe("migration to-narrow: target public.todo_narrow lacks column(s) title of public.todo");

    const typo = await testJobContext(url, moveConfig({ id: "typo", where: "done and done_at < now()" }));
    const missing = await run(typo);
    expect(missing.status).toBe("failed");
    expect(missing.message).toMatch(/^migration typo: where "done and done_at < now\(\)" does not work on public\.todo: column "done\w*" does not exist; fix `where` in the config$/);
    expect((await run(typo, { dryRun: true })).status).toBe("failed");

    const ctx = d.ctx;
    for (const action of ["swap", "verify", "rollback"] as const) {
      const refused = await run(ctx, { action });
      expect(refused).toMatchObject({ status: "failed", message: `migration ${ID} is a recurring move: it has no ${action} (each batch moves its rows in one transaction); use run, pause or resume` });
    }
    expect(await digest(sql, "todo")).toEqual(before);
    expect((await sql`select count(*)::int as n from todo_narrow`)[0]!.n).toBe(0);
    expect(await partitionNames(sql, "public", "todo_archive")).toEqual([]);
    expect((await sql`select count(*)::int as n from partkeeper.data_migration`)[0]!.n).toBe(0);
  });

  it("killed with SIGKILL in the middle of a batch: the batch is rolled back whole, and a rerun moves the rest exactly once", async () => {
    const { sql, url, ctx } = e;
    const before = await matching(sql);
    // One batch first (partitions made, a pass in progress), so the child goes straight to batches.
    expect(await run({ ...ctx, deadline: Date.now() - 1 })).toMatchObject({ status: "deferred", rowsCopied: 1000 });
    // The month holding most of the rows still to move: the test locks it, so the child's batch
    // inserts into other months, then waits on it with its deletes done.
    const [busiest] = await sql<{ month: string }[]>`
      select 'todo_archive_p' || to_char(completed_at at time zone 'UTC', 'YYYY_MM') as month from todo where ${sql.unsafe(MATCH)} group by 1 order by count(*) desc limit 1`;
    const app = "pk-move-child";
    const childUrl = new URL(url);
    childUrl.searchParams.set("application_name", app);
    const holder = await sql.reserve();
    let output = "";
    try {
      await holder`begin`;
      await holder.unsafe(`lock table ${busiest!.month} in share mode`);
      const child = spawn(process.execPath, ["--import", "tsx", CHILD, childUrl.toString(), JSON.stringify(moveConfig()), "run"], {
        env: { ...process.env, NODE_NO_WARNINGS: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      const exited = new Promise((resolve) => child.once("exit", resolve));
      const until = Date.now() + 30_000;
      for (;;) {
        const [waiting] = await sql`
          select count(*)::int as n from pg_stat_activity where application_name = ${app} and wait_event_type = 'Lock' and query like 'with picked as%'`;
        if (waiting!.n > 0) break;
        if (child.exitCode !== null || Date.now() > until) throw new Error(`the child did not block in a batch:\n${output}`);
        await sleep(5);
      }
      // Its deletes are done (it holds their row locks): the killed batch had moved rows half-way.
      child.kill("SIGKILL");
      await exited;
    } finally {
      await holder`rollback`;
      holder.release();
    }
    const until = Date.now() + 30_000;
    while ((await sql`select 1 from pg_stat_activity where application_name = ${app}`).length > 0) {
      if (Date.now() > until) throw new Error("the killed child's session is still there");
      await sleep(10);
    }

    expect(await placement(sql)).toEqual({ rows: SEED_ROWS, ids: SEED_ROWS });
    const [record] = await sql`select rows_copied::int as rows from partkeeper.data_migration where id = ${ID}`;
    expect((await sql`select count(*)::int as n from todo_archive`)[0]!.n).toBe(record!.rows);
    const rerun = await run(ctx);
    expect(rerun, rerun.message).toMatchObject({ status: "ok" });
    expect(await digest(sql, "todo_archive")).toEqual(before);
    expect(await placement(sql)).toEqual({ rows: SEED_ROWS, ids: SEED_ROWS });
  });
});
