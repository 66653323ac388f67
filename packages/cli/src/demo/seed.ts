import type { ConfigInput, Sql } from "@partkeeper/core";
import recordHistory, { recordHistoryPolicy } from "../../../../examples/record-history/migration.ts";
import { seedRecordHistory } from "../../../../examples/record-history/seed.ts";

/** The demo bucket and archive location on the local S3-compatible server. */
export const DEMO_BUCKET = "partkeeper-demo";

/** Rows of the unpartitioned login_events table the demo's migration converts. */
export const DEMO_LOGIN_ROWS = 500_000;

/** Changes (and records) of the legacy record history the demo consolidates (examples/record-history). */
export const DEMO_RECORD_CHANGES = 60_000;
const DEMO_RECORDS = 6_000;

/**
 * The demo's partkeeper.config.json: one parent per strategy, and login_events, a plain table that
 * a partition-table migration converts (swap auto) before the lifecycle, which then archives its
 * two expired months; and the legacy record history of examples/record-history, consolidated by its
 * transform migration (cut over automatically here) into record_history_v2.
 */
export function demoConfig(): ConfigInput {
  return {
    archive: { location: `s3://${DEMO_BUCKET}/archive` },
    tables: [
      { table: "workflow_events", strategy: "range-time", interval: "month", premake: 4, retention: "6 months" },
      { table: "audit_log", strategy: "range-time", interval: "day", premake: 7, retention: "30 days" },
      { table: "todos", strategy: "hash", modulus: 16 },
      { table: "participants", strategy: "list", values: [1, 2, 3, 4, 5, 6, 7, 8] },
      { table: "login_events", strategy: "range-time", interval: "month", premake: 2, retention: "10 months" },
      recordHistoryPolicy,
    ],
    migrations: [
      { id: "partition-login-events", kind: "partition-table", table: "login_events", column: "created_at", swap: "auto" },
      { ...recordHistory, swap: "auto" },
    ],
    // Refreshed at most hourly: a second `npm start` finds them fresh (nothing to do).
    stats: { materializedViews: DEMO_VIEWS.map((v) => ({ view: v.name, every: "1 hour" })) },
  };
}

/**
 * The demo's materialized views, created by `createDemoViews` once their tables exist: event counts
 * per type over workflow_events, and per month of record_history_v2 (which the record-history
 * migration creates) what the seed guides' `history_table_stats` shows: changes, records changed, and
 * who changed them. Each has a unique index, so refresh-stats refreshes them CONCURRENTLY.
 */
const DEMO_VIEWS = [
  {
    name: "workflow_event_counts",
    query: "select type, count(*)::bigint as events, min(ts) as first_at, max(ts) as last_at from public.workflow_events group by type",
    key: "type",
  },
  {
    name: "record_history_stats",
    query: `select date_trunc('month', created_at) as month, count(*)::bigint as changes, count(distinct record_id)::bigint as records,
      count(*) filter (where change_source = 'user')::bigint as by_users, count(*) filter (where change_source = 'admin')::bigint as by_admins,
      count(*) filter (where change_source = 'system')::bigint as by_system, count(*) filter (where full_snapshot is not null)::bigint as major_snapshots
      from public.record_history_v2 group by 1`,
    key: "month",
  },
] as const;

/** Creates the demo's materialized views that do not exist yet (populated, so their first refresh can be CONCURRENTLY); returns their names. */
export async function createDemoViews(sql: Sql): Promise<string[]> {
  const created: string[] = [];
  for (const view of DEMO_VIEWS) {
    const [exists] = await sql`select to_regclass(${`public.${view.name}`}) is not null as present`;
    if (exists!.present) continue;
    await sql.begin(async (tx) => {
      await tx.unsafe(`create materialized view public.${view.name} as ${view.query}`);
      await tx.unsafe(`create unique index ${view.name}_key on public.${view.name} (${view.key})`);
    });
    created.push(view.name);
  }
  return created;
}

/** The table each part of the seed creates first: present means that part is seeded. */
const SEEDED_BY = { partitioned: "public.workflow_events", loginEvents: "public.login_events", recordHistory: "public.record" } as const;

async function seededParts(sql: Sql): Promise<Record<keyof typeof SEEDED_BY, boolean>> {
  const [row] = await sql`
    select to_regclass(${SEEDED_BY.partitioned}) is not null as partitioned, to_regclass(${SEEDED_BY.loginEvents}) is not null as "loginEvents",
      to_regclass(${SEEDED_BY.recordHistory}) is not null as "recordHistory"`;
  return { partitioned: Boolean(row?.partitioned), loginEvents: Boolean(row?.loginEvents), recordHistory: Boolean(row?.recordHistory) };
}

/**
 * True when every demo table exists (a second `npm start` reuses them). login_events exists in
 * every state of its migration: unpartitioned before the swap, partitioned after it.
 */
export async function isSeeded(sql: Sql): Promise<boolean> {
  const parts = await seededParts(sql);
  return parts.partitioned && parts.loginEvents && parts.recordHistory;
}

/**
 * Creates the demo data set as an application would have it before partkeeper manages it, in one
 * transaction; a part that already exists is left alone (a demo directory seeded by an older
 * version gets only login_events). Returns what it created, for the demo's output:
 * - workflow_events: monthly range on ts, 14 past months of partitions, a default partition, and
 *   `eventRows` rows spread up to now (this month's rows sit in the default partition);
 * - audit_log: daily range on created_at, 45 past days, a default partition, 2,000 rows a day;
 * - todos: hash on user_id, no partitions yet (partkeeper creates all 16);
 * - participants: list on campaign_id, partitions for campaigns 1-5 and a default partition
 *   holding the rows of campaigns 6-8;
 * - login_events: not partitioned, `loginRows` rows over the 12 months up to now in id order, an
 *   index by user and one by time (the demo's migration converts it).
 * Partitions here are created in the same naming scheme partkeeper uses.
 */
export async function seedDemo(sql: Sql, eventRows: number, loginRows: number = DEMO_LOGIN_ROWS): Promise<string[]> {
  const count = (n: number) => n.toLocaleString("en-US");
  const seeded = await sql.begin(async (tx) => {
    const parts = await seededParts(tx as unknown as Sql);
    const seeded: string[] = [];
    if (!parts.partitioned) {
      await seedPartitioned(tx as unknown as Sql, eventRows);
      seeded.push(`${count(eventRows)} workflow_events rows, audit_log, todos, participants`);
    }
    if (!parts.loginEvents) {
      await seedLoginEvents(tx as unknown as Sql, loginRows);
      seeded.push(`${count(loginRows)} login_events rows (not partitioned)`);
    }
    await tx`analyze`;
    return seeded;
  });
  if (!(await seededParts(sql)).recordHistory) {
    // Its own transaction (seedRecordHistory opens one).
    const history = await seedRecordHistory(sql, { records: DEMO_RECORDS, changes: DEMO_RECORD_CHANGES });
    seeded.push(`${count(history.changes)} changes of ${count(history.records)} records in five legacy history tables`);
  }
  return seeded;
}

/** workflow_events, audit_log, todos and participants: already partitioned, partkeeper takes them over. */
async function seedPartitioned(tx: Sql, eventRows: number): Promise<void> {
  await tx.unsafe(`
    create table workflow_events (
      id bigint generated always as identity,
      run_id uuid not null,
      ts timestamptz not null,
      type text not null,
      payload jsonb not null,
      primary key (id, ts)
    ) partition by range (ts);
    create table workflow_events_default partition of workflow_events default;

    create table audit_log (
      id bigint generated always as identity,
      created_at timestamptz not null,
      actor text not null,
      action text not null,
      detail jsonb,
      primary key (id, created_at)
    ) partition by range (created_at);
    create table audit_log_default partition of audit_log default;

    create table todos (
      id bigint generated always as identity,
      user_id bigint not null,
      title text not null,
      done boolean not null default false,
      primary key (id, user_id)
    ) partition by hash (user_id);

    create table participants (
      campaign_id int not null,
      participant_id uuid not null default gen_random_uuid(),
      email text not null,
      joined_at timestamptz not null,
      primary key (campaign_id, participant_id)
    ) partition by list (campaign_id);
    create table participants_default partition of participants default;

    do $$
    declare
      month_start timestamptz := date_trunc('month', now(), 'UTC');
      day_start timestamptz := date_trunc('day', now(), 'UTC');
      m timestamptz;
      d timestamptz;
    begin
      for i in 1..14 loop
        m := month_start - make_interval(months => i);
        execute format('create table %I partition of workflow_events for values from (%L) to (%L)',
          'workflow_events_p' || to_char(m at time zone 'UTC', 'YYYY_MM'), m, m + interval '1 month');
      end loop;
      for i in 1..45 loop
        d := day_start - make_interval(days => i);
        execute format('create table %I partition of audit_log for values from (%L) to (%L)',
          'audit_log_p' || to_char(d at time zone 'UTC', 'YYYY_MM_DD'), d, d + interval '1 day');
      end loop;
      for c in 1..5 loop
        execute format('create table %I partition of participants for values in (%s)', 'participants_p_' || c, c);
      end loop;
    end $$;
  `);
  await tx`
    insert into workflow_events (run_id, ts, type, payload)
    select gen_random_uuid(),
           s.start + random() * (now() - s.start),
           (array['run.started', 'step.completed', 'step.failed', 'run.completed'])[1 + g % 4],
           jsonb_build_object('step', g % 17, 'attempt', 1 + g % 3, 'worker', 'w-' || (g % 32), 'digest', md5(g::text))
    from generate_series(1, ${eventRows}::int) g,
         (select date_trunc('month', now(), 'UTC') - interval '14 months' as start) s`;
  await tx`
    insert into audit_log (created_at, actor, action, detail)
    select now() - random() * interval '45 days', 'user-' || (g % 500),
           (array['login', 'update', 'delete', 'export'])[1 + g % 4], jsonb_build_object('ip', '10.0.' || (g % 255) || '.' || (g % 7))
    from generate_series(1, 90000) g`;
  await tx`
    insert into participants (campaign_id, email, joined_at)
    select 1 + g % 8, 'person' || g || '@example.com', now() - random() * interval '90 days'
    from generate_series(1, 40000) g`;
}

/**
 * login_events: an application's sign-in log kept in one plain table, `rows` rows over the 12 months
 * up to now. Ids follow time (rows are appended as users sign in), one row in six is a failed
 * attempt, ip and user agent are sometimes missing. Also the shape bench/migrate.ts converts.
 */
export async function seedLoginEvents(tx: Sql, rows: number): Promise<void> {
  await tx.unsafe(`
    create table login_events (
      id bigint generated always as identity primary key,
      user_id bigint not null,
      created_at timestamptz not null,
      ip inet,
      user_agent text,
      success boolean not null
    )
  `);
  await tx`
    insert into login_events (user_id, created_at, ip, user_agent, success)
    select 1 + (g::int8 * 7919) % 20000,
           s.start + (g - random()) * (now() - s.start) / ${rows}::int,
           case when g % 50 <> 0 then ('10.' || (g % 256) || '.' || (g / 256 % 256) || '.' || (g * 13 % 254 + 1))::inet end,
           case when g % 20 <> 0 then (array['Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15',
                                             'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148', 'okhttp/4.12.0'])[1 + g % 4] end,
           g % 6 <> 0
    from generate_series(1, ${rows}::int) g, (select now() - interval '12 months' as start) s`;
  // Built after the rows, as a restore would: faster than maintaining them row by row.
  await tx.unsafe(`
    create index login_events_user_id_created_at_idx on login_events (user_id, created_at);
    create index login_events_created_at_idx on login_events (created_at)
  `);
}
