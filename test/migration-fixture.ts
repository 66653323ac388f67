import type postgres from "postgres";

/**
 * The small partition-table migration the doors' tests (CLI, Lambda) drive: a plain table with a
 * bigint identity primary key and a NOT NULL timestamptz `createdAt`, `rows` rows one hour apart
 * back from now (a few monthly partitions), analyzed.
 */
export async function createTableToPartition(sql: postgres.Sql, table: string, rows: number): Promise<void> {
  await sql`create table ${sql(table)} (id bigint generated always as identity primary key, "createdAt" timestamptz not null, note text)`;
  await sql`insert into ${sql(table)} ("createdAt", note) select now() - g * interval '1 hour', 'row ' || g from generate_series(1, ${rows}::int) g`;
  await sql`analyze ${sql(table)}`; // the row estimate a progress bar's total and ETA come from
}

/** A config with a monthly range-time policy per table and a manual-swap migration `id` for it, in small batches. */
export function migrationConfig(migrations: ReadonlyArray<{ id: string; table: string }>) {
  return {
    tables: migrations.map((m) => ({ table: m.table, strategy: "range-time", interval: "month", premake: 1 })),
    migrations: migrations.map((m) => ({
      id: m.id,
      kind: "partition-table",
      table: m.table,
      column: "createdAt",
      swap: "manual",
      batch: { initialSize: 500, maxSize: 1000 },
    })),
  };
}

/** `r` (a plain table) or `p` (partitioned): what `public.<table>` is now. */
export async function relationKind(sql: postgres.Sql, table: string): Promise<string> {
  const [row] = await sql`select relkind from pg_class where oid = to_regclass(${`public.${JSON.stringify(table)}`})`;
  return row!.relkind as string;
}
