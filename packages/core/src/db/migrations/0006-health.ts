/**
 * Health and statistics (issue 11): what the views need to know that the catalog does not say, the
 * records of the refresh-stats job, and the views themselves.
 *
 * - `managed_parent`: each configured parent's policy as the last job run saw it (the database does
 *   not know the config; retention and, for range-integer, the max key decide a partition's state).
 * - `parent_run`: one row per parent per job run (ok, failed, skipped), kept 35 days: "last successful
 *   run of each job" and "failed runs in the last 24 h" per parent.
 * - `stats_refresh`: one row per materialized view refresh and per ANALYZE of the refresh-stats job.
 * - `archive.verified_at`: when the archive was verified (the archive catalog shows it).
 * - `partition_health(at)` / `parent_health(at)`: set-based SQL functions over pg_inherits, inlined by
 *   the planner; `at` defaults to now() and lets the CLI and tests compute states at a given time.
 *   The views `partitions`, `parents`, `archive_catalog` and `materialized_views` are what SQL users
 *   and dashboards read. Sizes (pg_total_relation_size, a stat of every file) are only in `partitions`.
 */
export const sql = `
create table partkeeper.managed_parent (
  parent_schema text not null,
  parent_name text not null,
  strategy text not null,
  retention interval,
  retention_keys numeric,
  max_key numeric,
  policy jsonb not null,
  updated_at timestamptz not null default now(),
  primary key (parent_schema, parent_name)
);

create table partkeeper.parent_run (
  job_run_id bigint not null references partkeeper.job_run (id) on delete cascade,
  parent_schema text not null,
  parent_name text not null,
  job text not null,
  status text not null check (status in ('ok', 'failed', 'skipped')),
  finished_at timestamptz not null default now(),
  error text,
  primary key (job_run_id, parent_schema, parent_name, job)
);
create index parent_run_recent on partkeeper.parent_run (parent_schema, parent_name, job, finished_at desc);

create table partkeeper.stats_refresh (
  id bigint generated always as identity primary key,
  job_run_id bigint references partkeeper.job_run (id) on delete set null,
  kind text not null check (kind in ('refresh', 'analyze')),
  relation_schema text not null,
  relation_name text not null,
  mode text not null,
  status text not null check (status in ('ok', 'failed', 'skipped', 'stopped')),
  started_at timestamptz not null,
  duration_ms float8 not null,
  rows bigint,
  message text
);
create index stats_refresh_recent on partkeeper.stats_refresh (relation_schema, relation_name, kind, started_at desc);

alter table partkeeper.archive add column verified_at timestamptz;
update partkeeper.archive set verified_at = updated_at where state in ('verified', 'dropped', 'kept');

-- A range bound as Postgres prints it ('2026-11-01 00:00:00+00', MINVALUE, MAXVALUE) as a timestamp;
-- null for anything else (a multi-column bound, an expression).
create function partkeeper.bound_time(bound text) returns timestamptz language sql stable as $fn$
  select case
    when bound = 'MINVALUE' then '-infinity'::timestamptz
    when bound = 'MAXVALUE' then 'infinity'::timestamptz
    when bound ~ '^''[0-9]{4}-[0-9]{2}-[0-9]{2}[^'',]*''$' then btrim(bound, '''')::timestamptz
  end
$fn$;

-- The same for integer bounds; MINVALUE and MAXVALUE are null (no number), which the states treat as open.
create function partkeeper.bound_number(bound text) returns numeric language sql immutable as $fn$
  select case when bound ~ '^-?[0-9]+$' then bound::numeric end
$fn$;

-- Rows in the parent's default partition, counted up to cap (null: no default partition).
create function partkeeper.default_partition_rows(parent regclass, cap bigint default 1000000) returns bigint
language plpgsql stable as $fn$
declare
  def regclass;
  n bigint;
begin
  select nullif(partdefid, 0)::regclass into def from pg_catalog.pg_partitioned_table where partrelid = parent;
  if def is null then
    return null;
  end if;
  execute format('select count(*) from (select 1 from %s limit %s) capped', def, cap) into n;
  return n;
end
$fn$;

create function partkeeper.partition_health(at timestamptz default now())
returns table (
  parent_schema text, parent_name text, strategy text, partition_schema text, partition_name text, partition_oid oid,
  bounds text, lower_bound text, upper_bound text, bound_order numeric, state text, rows bigint, archived_bytes bigint,
  last_analyze timestamptz, last_autovacuum timestamptz
)
language sql stable as $fn$
  with parent as (
    select m.*, to_regclass(format('%I.%I', m.parent_schema, m.parent_name)) as oid from partkeeper.managed_parent m
  ),
  live as (
    select p.parent_schema, p.parent_name, p.strategy, p.retention, p.retention_keys, p.max_key,
      n.nspname::text as partition_schema, c.relname::text as partition_name, c.oid as partition_oid,
      pg_get_expr(c.relpartbound, c.oid) as bounds, c.reltuples,
      s.last_analyze, s.last_autoanalyze, s.last_autovacuum
    from parent p
    join pg_catalog.pg_inherits i on i.inhparent = p.oid
    join pg_catalog.pg_class c on c.oid = i.inhrelid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    left join pg_catalog.pg_stat_all_tables s on s.relid = c.oid
  ),
  archived as (
    select p.parent_schema, p.parent_name, p.strategy, p.retention, p.retention_keys, p.max_key,
      a.partition_schema, a.partition_name, a.bound_expression as bounds, a.rows, a.bytes
    from parent p
    join partkeeper.archive a on a.parent_schema = p.parent_schema and a.parent_name = p.parent_name and a.state in ('dropped', 'kept')
    where not exists (select 1 from live l where l.partition_schema = a.partition_schema and l.partition_name = a.partition_name)
  ),
  parts as (
    select l.parent_schema, l.parent_name, l.strategy, l.retention, l.retention_keys, l.max_key, l.partition_schema, l.partition_name,
      l.partition_oid, l.bounds, nullif(l.reltuples, -1)::bigint as rows, null::bigint as archived_bytes,
      greatest(l.last_analyze, l.last_autoanalyze) as last_analyze, l.last_autovacuum, false as is_archived,
      exists (select 1 from partkeeper.restore r where r.mode = 'attach' and r.state = 'attached'
              and r.target_schema = l.partition_schema and r.target_name = l.partition_name) as is_restored
    from live l
    union all
    select a.parent_schema, a.parent_name, a.strategy, a.retention, a.retention_keys, a.max_key, a.partition_schema, a.partition_name,
      null, a.bounds, a.rows, a.bytes, null, null, true, false
    from archived a
  ),
  ranged as (
    select x.*, regexp_match(x.bounds, '^FOR VALUES FROM \\((.*)\\) TO \\((.*)\\)$') as r from parts x
  ),
  typed as (
    select g.*,
      case when g.strategy = 'range-time' then partkeeper.bound_time(g.r[1]) end as lower_time,
      case when g.strategy = 'range-time' then partkeeper.bound_time(g.r[2]) end as upper_time,
      case when g.strategy = 'range-integer' then partkeeper.bound_number(g.r[1]) end as lower_number,
      case when g.strategy = 'range-integer' then partkeeper.bound_number(g.r[2]) end as upper_number
    from ranged g
  )
  select t.parent_schema, t.parent_name, t.strategy, t.partition_schema, t.partition_name, t.partition_oid, t.bounds,
    case when t.strategy = 'range-time' then to_char(t.lower_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') else t.r[1] end,
    case when t.strategy = 'range-time' then to_char(t.upper_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') else t.r[2] end,
    coalesce(extract(epoch from t.lower_time), t.lower_number),
    case
      when t.is_archived then 'archived'
      when t.bounds = 'DEFAULT' then 'default'
      when t.is_restored then 'restored'
      when t.strategy = 'range-time' then case
        when t.upper_time <= at - t.retention then 'expiring'
        when t.upper_time <= at then 'past'
        when t.lower_time > at then 'future'
        else 'current' end
      when t.strategy = 'range-integer' then case
        when t.max_key is null then 'future'
        when t.upper_number <= t.max_key - t.retention_keys then 'expiring'
        when t.upper_number <= t.max_key then 'past'
        when t.lower_number > t.max_key then 'future'
        else 'current' end
      else 'live'
    end,
    t.rows, t.archived_bytes, t.last_analyze, t.last_autovacuum
  from typed t
$fn$;

create function partkeeper.parent_health(at timestamptz default now())
returns table (
  parent_schema text, parent_name text, strategy text, problem text, partitions bigint, partitions_ahead bigint,
  ahead_until text, default_partition_rows bigint, oldest_expiring text, archive_backlog bigint,
  last_maintain timestamptz, last_archive timestamptz, last_refresh_stats timestamptz, failed_runs_24h bigint
)
language sql stable as $fn$
  with parent as (
    select m.parent_schema, m.parent_name, m.strategy, to_regclass(format('%I.%I', m.parent_schema, m.parent_name)) as oid
    from partkeeper.managed_parent m
  ),
  per_parent as (
    select h.parent_schema, h.parent_name,
      count(*) filter (where h.state <> 'archived') as partitions,
      count(*) filter (where h.state = 'future') as ahead,
      max(h.upper_bound) filter (where h.state in ('current', 'future')) as ahead_until,
      (array_agg(h.partition_name order by h.bound_order) filter (where h.state = 'expiring'))[1] as oldest_expiring,
      count(*) filter (where h.state = 'expiring') as backlog
    from partkeeper.partition_health(at) h
    group by h.parent_schema, h.parent_name
  ),
  runs as (
    select r.parent_schema, r.parent_name,
      max(r.finished_at) filter (where r.job = 'maintain' and r.status = 'ok') as last_maintain,
      max(r.finished_at) filter (where r.job = 'archive' and r.status = 'ok') as last_archive,
      max(r.finished_at) filter (where r.job = 'refresh-stats' and r.status = 'ok') as last_refresh_stats,
      count(*) filter (where r.status = 'failed' and r.finished_at > at - interval '24 hours') as failed
    from partkeeper.parent_run r
    group by r.parent_schema, r.parent_name
  )
  select p.parent_schema, p.parent_name, p.strategy,
    case
      when p.oid is null then 'does not exist'
      when not exists (select 1 from pg_catalog.pg_partitioned_table pt where pt.partrelid = p.oid) then 'is not a partitioned table'
    end,
    coalesce(x.partitions, 0),
    case when p.strategy like 'range-%' then coalesce(x.ahead, 0) end,
    case when p.strategy like 'range-%' then x.ahead_until end,
    case when p.oid is not null and exists (select 1 from pg_catalog.pg_partitioned_table pt where pt.partrelid = p.oid)
      then partkeeper.default_partition_rows(p.oid) end,
    x.oldest_expiring, coalesce(x.backlog, 0),
    r.last_maintain, r.last_archive, r.last_refresh_stats, coalesce(r.failed, 0)
  from parent p
  left join per_parent x on x.parent_schema = p.parent_schema and x.parent_name = p.parent_name
  left join runs r on r.parent_schema = p.parent_schema and r.parent_name = p.parent_name
$fn$;

create view partkeeper.partitions as
  select h.parent_schema, h.parent_name, h.strategy, h.partition_schema, h.partition_name, h.bounds, h.lower_bound, h.upper_bound,
    h.state, h.rows, coalesce(pg_catalog.pg_total_relation_size(h.partition_oid), h.archived_bytes) as total_bytes,
    h.last_analyze, h.last_autovacuum
  from partkeeper.partition_health() h;
comment on view partkeeper.partitions is 'One row per partition of every parent partkeeper manages, live or archived: bounds, state (future, current, past, expiring, archived, restored, default, live), estimated rows, bytes (of the table, or of the Parquet object when archived), last analyze and autovacuum.';

create view partkeeper.parents as select * from partkeeper.parent_health();
comment on view partkeeper.parents is 'One row per parent partkeeper manages: partitions, partitions ahead and until when, default-partition rows, oldest expired partition not archived, archive backlog, last successful run of each job, failed runs in the last 24 hours.';

create view partkeeper.archive_catalog as
  select a.parent_schema, a.parent_name, a.partition_schema, a.partition_name, a.bound_expression as bounds, a.state,
    a.object_key, a.manifest_key, a.rows, a.bytes, a.sha256, a.verified_at,
    (select max(r.updated_at) from partkeeper.restore r where r.partition_schema = a.partition_schema and r.partition_name = a.partition_name) as last_restored_at
  from partkeeper.archive a
  where a.state in ('verified', 'dropped', 'kept');
comment on view partkeeper.archive_catalog is 'Every verified archive: where it is (object and manifest keys under the archive location), rows, bytes, SHA-256, when it was verified and last restored.';

create view partkeeper.materialized_views as
  select distinct on (s.relation_schema, s.relation_name) s.relation_schema as view_schema, s.relation_name as view_name,
    s.status as last_status, s.started_at as last_attempt_at, s.duration_ms as last_duration_ms, s.message as last_message,
    (select max(o.started_at) from partkeeper.stats_refresh o
      where o.kind = 'refresh' and o.status = 'ok' and o.relation_schema = s.relation_schema and o.relation_name = s.relation_name) as last_refresh_at
  from partkeeper.stats_refresh s
  where s.kind = 'refresh'
  order by s.relation_schema, s.relation_name, s.started_at desc;
comment on view partkeeper.materialized_views is 'Each materialized view the refresh-stats job refreshes: its last attempt (status, duration, message) and last successful refresh.';
`;
