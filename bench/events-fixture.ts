import type { Sql } from "@partkeeper/core";

/** The partition the archive benches measure: January 2025 of `public.events`. */
export const EVENTS_PARTITION = "events_p2025_01";

/**
 * Builds `public.events` (range by `ts`, monthly; the shape of the demo's workflow_events: bigint
 * identity, uuid, timestamptz, text, jsonb, numeric(12,2); primary key (id, ts)) with `rows` rows in
 * January 2025 and an empty February, then VACUUM ANALYZE.
 *
 * Per row about 37 bytes cannot be compressed by any format: the random uuid (16 bytes), the md5 hex
 * inside the jsonb (16 bytes) and, with `order: "random"`, a random microsecond in 31 days (about 5
 * bytes). `order: "time"` inserts in time order, as an event log fills.
 */
export async function createEventsTable(sql: Sql, rows: number, order: "random" | "time" = "random"): Promise<void> {
  const ts =
    order === "time"
      ? `timestamptz '2025-01-01 00:00:00+00' + (g::float8 / ${rows + 1}) * interval '31 days'`
      : `timestamptz '2025-01-01 00:00:00+00' + random() * interval '31 days'`;
  await sql.unsafe(`
    create table events (id bigint generated always as identity, run_id uuid not null, ts timestamptz not null,
      type text not null, payload jsonb not null, amount numeric(12,2), primary key (id, ts)) partition by range (ts);
    create table events_p2025_01 partition of events for values from ('2025-01-01 00:00:00+00') to ('2025-02-01 00:00:00+00');
    create table events_p2025_02 partition of events for values from ('2025-02-01 00:00:00+00') to ('2025-03-01 00:00:00+00');
    insert into events (run_id, ts, type, payload, amount)
      select gen_random_uuid(), ${ts},
             (array['run.started', 'step.completed', 'step.failed', 'run.completed'])[1 + g % 4],
             jsonb_build_object('step', g % 17, 'attempt', 1 + g % 3, 'worker', 'w-' || (g % 32), 'digest', md5(g::text)),
             (g % 1000000) / 100.0
      from generate_series(1, ${Number(rows)}) g;
  `);
  await sql`vacuum analyze events`;
}
