import type { JobContext } from "@partkeeper/core";

/**
 * The archive tests' parent: range by `ts`, monthly, with an expired May 2026 partition and a
 * current November one (retention 3 months at the tests' NOW, 2026-11-21), and its table policy.
 */

/** The policy of such a parent: monthly, retention 3 months, no default partition. */
export function monthlyPolicy(table: string) {
  return { table, strategy: "range-time" as const, interval: "month" as const, retention: "3 months", defaultPartition: false };
}

/** A column after `id bigint not null, ts timestamptz not null`, with the SQL of its value for row `g`. */
export interface FixtureColumn {
  readonly name: string;
  readonly type: string;
  readonly value: string;
}

export interface ExpiredMayOptions {
  /** Rows in May (ids 1..rows). */
  readonly rows: number;
  readonly columns: ReadonlyArray<FixtureColumn>;
  /** Row `g`'s ts in seconds after 2026-05-01 00:00:00.123456 UTC, SQL over `g`. Default `g % 2592000`. */
  readonly second?: string;
  /** Copies May to `<name>_may`, the rows a restore must give back. */
  readonly copyMay?: boolean;
}

/**
 * Creates parent `name` (`id`, `ts`, then `columns`; primary key (id, ts)) with partitions
 * `<name>_p2026_05` holding `rows` rows and an empty `<name>_p2026_11`.
 */
export async function parentWithExpiredMay(sql: JobContext["sql"], name: string, options: ExpiredMayOptions): Promise<void> {
  const { columns } = options;
  await sql.unsafe(`
    create table "${name}" (id bigint not null, ts timestamptz not null, ${columns.map((c) => `${c.name} ${c.type}`).join(", ")},
      primary key (id, ts)) partition by range (ts);
    create table "${name}_p2026_05" partition of "${name}" for values from ('2026-05-01 00:00:00+00') to ('2026-06-01 00:00:00+00');
    create table "${name}_p2026_11" partition of "${name}" for values from ('2026-11-01 00:00:00+00') to ('2026-12-01 00:00:00+00');
    insert into "${name}" (id, ts, ${columns.map((c) => c.name).join(", ")})
      select g, timestamptz '2026-05-01 00:00:00+00' + (${options.second ?? "g % 2592000"}) * interval '1 second' + interval '0.123456 second',
             ${columns.map((c) => c.value).join(", ")}
      from generate_series(1, ${options.rows}) g;
    ${options.copyMay ? `create table "${name}_may" as select * from "${name}_p2026_05";` : ""}
  `);
}
