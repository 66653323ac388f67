import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import type postgres from "postgres";

/** Creates the example's tables (schema.sql) in the connection's current schema. */
export async function createTodoSchema(sql: postgres.Sql): Promise<void> {
  await sql.unsafe(await readFile(new URL("schema.sql", import.meta.url), "utf8"));
}

export interface SeedTodosResult {
  readonly rows: number;
  /** Rows the move's condition selects right after the seed (completed more than 30 days ago). */
  readonly matching: number;
}

/**
 * Inserts `rows` todos into `todo`, set-based and deterministic (setseed): 200 lists; created at a
 * random time in the two years before now(); half of them completed, at a random time between
 * creation and now(), so about 45 % of all rows were completed more than 30 days ago and match
 * `archive-completed-todos`. Analyzes the table. 20,000 rows take about 0.2 s.
 */
export async function seedTodos(sql: postgres.Sql, rows: number): Promise<SeedTodosResult> {
  await sql.begin(async (tx) => {
    await tx`select setseed(0.42)`;
    await tx`
      insert into todo (list_id, title, completed, completed_at, created_at)
      select list_id, title, done, case when done then created_at + random() * (now() - created_at) end, created_at
      from (
        select 1 + (g % 200) as list_id, 'todo ' || g || ': ' || md5(g::text) as title, random() < 0.5 as done,
               now() - random() * interval '730 days' as created_at
        from generate_series(1, ${rows}::int) g
      ) s`;
  });
  await sql`analyze todo`;
  const [row] = await sql<{ matching: number }[]>`select count(*)::int as matching from todo where completed and completed_at < now() - interval '30 days'`;
  return { rows, matching: row!.matching };
}

// `npx tsx examples/todo-archive/seed.ts [rows]`: creates the tables and seeds them on $DATABASE_URL.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { default: postgres } = await import("postgres");
  const sql = postgres(process.env.DATABASE_URL ?? "", { onnotice: () => {} });
  try {
    await createTodoSchema(sql);
    const seeded = await seedTodos(sql, Number(process.argv[2] ?? 20_000));
    process.stdout.write(`seeded ${seeded.rows} todos, ${seeded.matching} of them completed more than 30 days ago\n`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
