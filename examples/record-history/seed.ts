import { readFile } from "node:fs/promises";
import type postgres from "postgres";
import { isMajorVersion } from "./major-version.ts";

export interface SeedRecordHistoryOptions {
  /** Records to create (rows of `record`), at least 1. */
  readonly records: number;
  /** Changes in all (rows of `record_history`), at least `records`: every record has its create. */
  readonly changes: number;
  /** End of the two years the data spans; default the current time. */
  readonly now?: Date;
}

export interface SeedRecordHistoryResult {
  readonly records: number;
  readonly changes: number;
  /** Rows of `record_field_history`. */
  readonly fieldRows: number;
  /** Rows of `record_snapshot`: every major version, and about a quarter of the other versions. */
  readonly snapshots: number;
  /** Rows of `record_restore`, one per change of type 'restore'. */
  readonly restores: number;
}

/**
 * Creates the legacy schema (legacy-schema.sql) in `public` and fills it, in one transaction, with
 * the changes of `records` records over the two years before `now`:
 *
 * - each record has its 'create' (version 1, all four fields) and a skewed share of the other
 *   changes (a few records have hundreds of versions, most have a few), at random times between its
 *   creation and `now`, numbered 1, 2, 3, ... in time order; history ids ascend with time;
 * - 'update' mostly, 'restore' 3 % (from version 3 on, with its `record_restore` row), 'delete' 1 %;
 *   source 'user' 75 %, 'admin' 10 %, 'system' 15 %;
 * - 1 to 4 changed fields per change (`title`, `status`, `body`, `owner`), old and new values;
 * - a snapshot at every major version and at about 25 % of the others, so most snapshots are not
 *   at a major version;
 * - `record_version` counters computed from the history rows, `record` holding the latest values.
 *
 * Set-based (generate_series, random() after setseed, no parallel workers): the same options give
 * the same rows on the same PostgreSQL major version (15 changed random()). 300,000 changes take about 9 s on 2 cores.
 *
 * @throws when the options are not integers with 1 <= records <= changes, or when the tables exist.
 */
export async function seedRecordHistory(sql: postgres.Sql, options: SeedRecordHistoryOptions): Promise<SeedRecordHistoryResult> {
  const { records, changes } = options;
  if (!Number.isInteger(records) || !Number.isInteger(changes) || records < 1 || changes < records) {
    throw new Error(`seedRecordHistory: records (${records}) and changes (${changes}) must be integers with 1 <= records <= changes`);
  }
  const now = options.now ?? new Date();
  const schema = await readFile(new URL("./legacy-schema.sql", import.meta.url), "utf8");
  const [tables, constraints] = schema.split(/^-- after-load$/m);
  if (tables === undefined || constraints === undefined) throw new Error("legacy-schema.sql has no `-- after-load` line");

  return sql.begin(async (tx) => {
    await tx.unsafe(tables);
    // Determinism: one random() sequence, consumed in plan order, by one process.
    await tx`set local max_parallel_workers_per_gather = 0`;
    await tx`set local work_mem = '256MB'`;
    await tx`select setseed(0.42)`;

    // The value of a field at a version: what the record looked like then.
    await tx.unsafe(`
      create function pg_temp.seed_value(field text, n int, v int) returns text language sql stable as $$
        select case field
          when 'title' then 'Record ' || n || ' (rev ' || v || ')'
          when 'status' then (array['draft', 'in_review', 'published', 'archived'])[1 + (n + v) % 4]
          when 'body' then 'Record ' || n || ', version ' || v || '. ' || repeat(md5(n || '/' || v), 3)
          when 'owner' then 'user-' || (1 + (n * 7 + v / 5) % 200)
        end
      $$`);

    await tx`
      create temp table seed_record on commit drop as
      select n, md5('record-' || n)::uuid as uid, ${now}::timestamptz - random() * interval '730 days' as created_at
      from generate_series(1, ${records}::int) n`;

    // Every record's create, then the other changes on records picked with a skew (random()^2).
    await tx`
      create temp table seed_change on commit drop as
      with picked as materialized (
        select 1 + floor(power(random(), 2) * ${records}::int)::int as n from generate_series(1, ${changes - records}::int)
      ),
      timed as materialized (
        select n, created_at as at, 0 as kind from seed_record
        union all
        select r.n, r.created_at + random() * (${now}::timestamptz - r.created_at), 1 from picked p join seed_record r using (n)
      ),
      numbered as materialized (
        select n, at, row_number() over (partition by n order by at, kind)::int as v from timed
      ),
      drawn as materialized (
        select row_number() over (order by at, n, v) as id, n, v, at,
          random() as rt, random() as rs, random() as rb, random() as rr, random() as rm, random() as rf, random() as rsnap
        from numbered
      )
      select d.id, md5('change-' || d.id)::uuid as change_uid, r.uid, d.n, d.v, d.at,
        case when d.v = 1 then 'create' when d.v > 2 and d.rt < 0.03 then 'restore' when d.rt >= 0.99 then 'delete' else 'update' end
          as change_type,
        case when d.rs < 0.75 then 'user' when d.rs < 0.85 then 'admin' else 'system' end as change_source,
        case when d.rs < 0.75 then 'user-' || (1 + floor(d.rb * 200))
             when d.rs < 0.85 then 'admin-' || (1 + floor(d.rb * 5))
             else (array['importer', 'scheduler', 'retention'])[1 + floor(d.rb * 3)::int] end as changed_by,
        case when d.rr < 0.2 then (array['customer request', 'typo fix', 'policy update', 'data cleanup', 'bulk import'])[1 + floor(d.rr * 25)::int]
          end as change_reason,
        case when d.v = 1 then 15 else 1 + floor(d.rm * 15)::int end as field_mask, -- bits: title, status, body, owner
        1 + floor(d.rf * (d.v - 1))::int as restored_from_version,
        ${tx.unsafe(isMajorVersion("d.v"))} or d.rsnap < 0.25 as has_snapshot
      from drawn d join seed_record r using (n)`;

    await tx`
      insert into public.record (uid, title, status, body, owner, created_at, updated_at)
      select r.uid, pg_temp.seed_value('title', r.n, l.v), pg_temp.seed_value('status', r.n, l.v), pg_temp.seed_value('body', r.n, l.v),
        pg_temp.seed_value('owner', r.n, l.v), r.created_at, l.at
      from seed_record r join (select n, max(v) as v, max(at) as at from seed_change group by n) l using (n)
      order by r.n`;

    await tx`
      insert into public.record_history (id, uid, record_id, version_number, change_type, change_source, changed_by, change_reason, created_at)
      select id, change_uid, uid, v, change_type, change_source, changed_by, change_reason, at from seed_change order by id`;

    const [fieldRows] = await tx<[{ rows: number }]>`
      with inserted as (
        insert into public.record_field_history (history_id, field_name, old_value, new_value, reason)
        select s.id, s.name, case when s.v > 1 then pg_temp.seed_value(s.name, s.n, s.v - 1) end, pg_temp.seed_value(s.name, s.n, s.v),
          case when random() < 0.1 then (array['requested by owner', 'correction', 'legal', 'migration'])[1 + floor(random() * 4)::int] end
        from (
          -- Sorted before the values are computed: a narrow sort.
          select c.id, c.n, c.v, f.name
          from seed_change c cross join (values (0, 'title'), (1, 'status'), (2, 'body'), (3, 'owner')) f(bit, name)
          where c.field_mask & (1 << f.bit) <> 0
          order by c.id, f.bit
        ) s
        returning 1
      )
      select count(*)::int as rows from inserted`;

    const [snapshots] = await tx<[{ rows: number }]>`
      with inserted as (
        insert into public.record_snapshot (record_id, version_number, snapshot, created_at)
        select c.uid, c.v,
          jsonb_build_object('uid', c.uid, 'title', pg_temp.seed_value('title', c.n, c.v), 'status', pg_temp.seed_value('status', c.n, c.v),
            'body', pg_temp.seed_value('body', c.n, c.v), 'owner', pg_temp.seed_value('owner', c.n, c.v), 'version_number', c.v, 'updated_at', c.at),
          c.at
        from (select uid, n, v, at from seed_change where has_snapshot order by id) c
        returning 1
      )
      select count(*)::int as rows from inserted`;

    const [restores] = await tx<[{ rows: number }]>`
      with inserted as (
        insert into public.record_restore (record_id, history_id, restored_from_version, restored_by, created_at)
        select uid, id, restored_from_version, changed_by, at from seed_change where change_type = 'restore' order by id
        returning 1
      )
      select count(*)::int as rows from inserted`;

    await tx`
      insert into public.record_version (record_id, current_version, total_changes, user_changes, admin_changes, system_changes, updated_at)
      select uid, max(v), count(*), count(*) filter (where change_source = 'user'), count(*) filter (where change_source = 'admin'),
        count(*) filter (where change_source = 'system'), max(at)
      from seed_change group by uid order by uid`;

    await tx`select setval(pg_get_serial_sequence('public.record_history', 'id'), max(id)) from public.record_history`;
    await tx.unsafe(constraints);
    await tx`analyze public.record, public.record_history, public.record_field_history, public.record_version, public.record_snapshot, public.record_restore`;

    return { records, changes, fieldRows: fieldRows.rows, snapshots: snapshots.rows, restores: restores.rows };
  });
}
