import type { ConfigInput, Sql } from "@partkeeper/core";

/** The demo bucket and archive location on the local S3-compatible server. */
export const DEMO_BUCKET = "partkeeper-demo";

/** The demo's partkeeper.config.json: one parent per strategy. */
export function demoConfig(): ConfigInput {
  return {
    archive: { location: `s3://${DEMO_BUCKET}/archive` },
    tables: [
      { table: "workflow_events", strategy: "range-time", interval: "month", premake: 4, retention: "6 months" },
      { table: "audit_log", strategy: "range-time", interval: "day", premake: 7, retention: "30 days" },
      { table: "todos", strategy: "hash", modulus: 16 },
      { table: "participants", strategy: "list", values: [1, 2, 3, 4, 5, 6, 7, 8] },
    ],
  };
}

/** True when the demo tables already exist (a second `npm start` reuses them). */
export async function isSeeded(sql: Sql): Promise<boolean> {
  const [row] = await sql`select to_regclass('public.workflow_events') is not null as seeded`;
  return Boolean(row?.seeded);
}

/**
 * Creates the demo data set as an application would have it before partkeeper manages it:
 * - workflow_events: monthly range on ts, 14 past months of partitions, a default partition, and
 *   `eventRows` rows spread up to now (this month's rows sit in the default partition);
 * - audit_log: daily range on created_at, 45 past days, a default partition, 2,000 rows a day;
 * - todos: hash on user_id, no partitions yet (partkeeper creates all 16);
 * - participants: list on campaign_id, partitions for campaigns 1-5 and a default partition
 *   holding the rows of campaigns 6-8.
 * Partitions here are created in the same naming scheme partkeeper uses.
 */
export async function seedDemo(sql: Sql, eventRows: number): Promise<void> {
  await sql.begin(async (tx) => {
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
    await tx`analyze`;
  });
}
