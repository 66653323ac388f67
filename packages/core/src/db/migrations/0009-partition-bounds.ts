/**
 * The health views without reading every partition's bound from the catalog each time (issue 11: the
 * `parents` view at 1,000 parents and 100,000 partitions took 1.1-1.5 s after 0007, about the time
 * of printing every bound with pg_get_expr and parsing it; figures in docs/figures.md).
 *
 * A partition's bound is fixed while it is attached: Postgres sets `relpartbound` in the transaction
 * that creates or attaches it (and inserts its `pg_inherits` row) and no command changes it until
 * DETACH deletes that row (PostgreSQL docs, ALTER TABLE: ATTACH PARTITION / DETACH PARTITION). So
 * a bound, parsed once, stays true for as long as the same `pg_inherits` row version (its `xmin`)
 * exists.
 *
 * - `partition_bound`: each managed partition's bound as Postgres printed it and parsed (times,
 *   numbers, the texts the views show), kept for one attachment: its `pg_inherits` xmin, the parent's
 *   key kind it was parsed for, and the server's start time. OIDs and xids only grow while a server
 *   runs; the start time keeps rows copied by pg_dump into another cluster, where both may repeat,
 *   from ever matching (after a restart the views read bounds from the catalog until the next job).
 * - `record_partition_bounds()`: forgets rows of detached, dropped or re-attached partitions and
 *   records the missing ones; every job run calls it after its per-parent outcomes
 *   (records/partition-bounds.ts). This migration calls it once.
 * - `partition_states(at)`: each partition's bound and state, from `partition_bound` where it holds
 *   the current attachment and from the catalog otherwise (a partition created since the last job),
 *   so the views are right whether or not a job ran since the last DDL. `partition_health` adds
 *   names, estimated rows and statistics times from pg_class; `parent_health` counts states without
 *   reading pg_class, except for the name of each parent's oldest expiring partition.
 * - `parent_keys()`, `range_bounds(bounds, key_kind)` and `catalog_bound(oid, key_kind)`: the parent's
 *   key kind, the bound parse of 0007 and the catalog read of one bound, each written once for the
 *   views and the recorder.
 *
 * `parent_health`'s `ahead_until` breaks ties of equal bound order (only parents whose bounds cannot
 * be parsed, where every partition is current) by partition OID, not by name.
 */
export const sql = `
create function partkeeper.parent_keys()
returns table (
  parent_schema text, parent_name text, strategy text, retention interval, retention_keys numeric, max_key numeric,
  parent_oid oid, default_oid oid, key_kind text
)
language sql stable as $fn$
  select m.parent_schema, m.parent_name, m.strategy, m.retention, m.retention_keys, m.max_key, k.oid, pt.partdefid,
    -- Only bounds that cannot fail are cast: a key (its operator class) of a timestamp, date or integer type.
    case when pt.partstrat = 'r' /* range */ and pt.partnatts = 1 then case
      when m.strategy = 'range-time' and oc.opcintype in ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) then 'time'
      when m.strategy = 'range-integer' and oc.opcintype in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) then 'integer'
    end end
  from partkeeper.managed_parent m
  -- Once per parent: inlined, the planner may evaluate to_regclass again in each join on it.
  cross join lateral (select to_regclass(format('%I.%I', m.parent_schema, m.parent_name)) as oid offset 0) k
  left join pg_catalog.pg_partitioned_table pt on pt.partrelid = k.oid
  left join pg_catalog.pg_opclass oc on oc.oid = pt.partclass[0]
$fn$;

-- A range bound as Postgres prints it, FOR VALUES FROM (a) TO (b): each side as a time ('time' keys),
-- a number ('integer' keys; Postgres quotes bigint and negative ones) and the text the views show
-- (times as ISO 8601 UTC); MINVALUE and MAXVALUE order as -infinity and infinity. Other keys: the
-- sides as printed. Other bounds (DEFAULT, IN, WITH): nulls.
create function partkeeper.range_bounds(bounds text, key_kind text)
returns table (lower_time timestamptz, upper_time timestamptz, lower_number numeric, upper_number numeric, lower_text text, upper_text text)
language sql stable as $fn$
  select t.lower_time, t.upper_time, t.lower_number, t.upper_number,
    case when key_kind = 'time' then to_char(t.lower_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
      when key_kind = 'integer' then btrim(r.lower_raw, '''') else r.lower_raw end,
    case when key_kind = 'time' then to_char(t.upper_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
      when key_kind = 'integer' then btrim(r.upper_raw, '''') else r.upper_raw end
  from (
    select y.lower_raw, y.upper_raw,
      -- As a timestamptz or numeric cast reads it (both take -infinity and infinity).
      case y.lower_raw when 'MINVALUE' then '-infinity' when 'MAXVALUE' then 'infinity' else btrim(y.lower_raw, '''') end as lower_value,
      case y.upper_raw when 'MINVALUE' then '-infinity' when 'MAXVALUE' then 'infinity' else btrim(y.upper_raw, '''') end as upper_value
    from (
      select case when key_kind is null then m[1] else split_part(substr(bounds, 18), ') TO (', 1) end as lower_raw,
        case when key_kind is null then m[2] else left(split_part(bounds, ') TO (', 2), -1) end as upper_raw
      from (select regexp_match(bounds, '^FOR VALUES FROM \\((.*)\\) TO \\((.*)\\)$') as m) x
      where bounds like 'FOR VALUES FROM (%) TO (%)'
      offset 0
    ) y
    offset 0
  ) r
  cross join lateral (
    select
      case when key_kind = 'time' then r.lower_value::timestamptz end as lower_time,
      case when key_kind = 'time' then r.upper_value::timestamptz end as upper_time,
      case when key_kind = 'integer' then r.lower_value::numeric end as lower_number,
      case when key_kind = 'integer' then r.upper_value::numeric end as upper_number
    offset 0
  ) t
  right join (select) one on true
$fn$;

-- A partition's bound as the catalog holds it now, printed (0, not its OID: a bound holds only
-- constants, so the partition need not be opened) and parsed by range_bounds.
create function partkeeper.catalog_bound(partition_oid oid, key_kind text)
returns table (bounds text, lower_time timestamptz, upper_time timestamptz, lower_number numeric, upper_number numeric, lower_text text, upper_text text)
language sql stable as $fn$
  select c.bounds, r.*
  from (select pg_catalog.pg_get_expr(c.relpartbound, 0) as bounds from pg_catalog.pg_class c where c.oid = partition_oid offset 0) c
  cross join lateral partkeeper.range_bounds(c.bounds, key_kind) r
$fn$;

create table partkeeper.partition_bound (
  partition_oid oid primary key,
  attached_xmin xid not null,
  key_kind text,
  server_started_at timestamptz not null,
  bounds text not null,
  lower_time timestamptz,
  upper_time timestamptz,
  lower_number numeric,
  upper_number numeric,
  lower_text text,
  upper_text text
);
comment on table partkeeper.partition_bound is 'Bounds of managed partitions, parsed once per attachment (pg_inherits xmin) for the health views; partkeeper migration 0009.';

create function partkeeper.record_partition_bounds() returns bigint
language sql volatile as $fn$
  delete from partkeeper.partition_bound b where b.server_started_at <> pg_catalog.pg_postmaster_start_time();
  -- Two statements: NOT EXISTS under an OR would run once per row instead of as one anti-join.
  delete from partkeeper.partition_bound b
  where not exists (
    select 1 from partkeeper.parent_keys() p join pg_catalog.pg_inherits i on i.inhparent = p.parent_oid
    where i.inhrelid = b.partition_oid and i.xmin = b.attached_xmin and p.key_kind is not distinct from b.key_kind);
  with recorded as (
    insert into partkeeper.partition_bound as b (partition_oid, attached_xmin, key_kind, server_started_at, bounds,
      lower_time, upper_time, lower_number, upper_number, lower_text, upper_text)
    select l.partition_oid, l.attached_xmin, l.key_kind, pg_catalog.pg_postmaster_start_time(), r.bounds,
      r.lower_time, r.upper_time, r.lower_number, r.upper_number, r.lower_text, r.upper_text
    from (
      select i.inhrelid as partition_oid, i.xmin as attached_xmin, p.key_kind
      from partkeeper.parent_keys() p
      join pg_catalog.pg_inherits i on i.inhparent = p.parent_oid
      where not exists (select 1 from partkeeper.partition_bound k where k.partition_oid = i.inhrelid)
      -- The missing ones first, then the catalog read for those only.
      offset 0
    ) l
    cross join lateral partkeeper.catalog_bound(l.partition_oid, l.key_kind) r
    -- Another job recorded it meanwhile: the same attachment, the same values.
    on conflict (partition_oid) do nothing
    returning 1
  )
  select count(*) from recorded
$fn$;

create function partkeeper.partition_states(at timestamptz default now())
returns table (
  parent_schema text, parent_name text, strategy text, partition_oid oid, archived_schema text, archived_name text,
  bounds text, lower_bound text, upper_bound text, bound_order numeric, state text, archived_rows bigint, archived_bytes bigint
)
language sql stable as $fn$
  select x.parent_schema, x.parent_name, x.strategy, x.partition_oid, x.archived_schema, x.archived_name,
    x.bounds, x.lower_text, x.upper_text, coalesce(extract(epoch from x.lower_time), x.lower_number),
    case
      when x.is_archived then 'archived'
      when x.is_default then 'default'
      when x.is_restored then 'restored'
      when x.strategy = 'range-time' then case
        when x.upper_time <= at - x.retention then 'expiring'
        when x.upper_time <= at then 'past'
        when x.lower_time > at then 'future'
        else 'current' end
      when x.strategy = 'range-integer' then case
        when x.max_key is null then 'future'
        when x.upper_number <= x.max_key - x.retention_keys then 'expiring'
        when x.upper_number <= x.max_key then 'past'
        when x.lower_number > x.max_key then 'future'
        else 'current' end
      else 'live'
    end,
    x.archived_rows, x.archived_bytes
  from (
    select p.parent_schema, p.parent_name, p.strategy, p.retention, p.retention_keys, p.max_key,
      i.inhrelid as partition_oid, null::text as archived_schema, null::text as archived_name,
      coalesce(b.bounds, f.bounds) as bounds, coalesce(b.lower_time, f.lower_time) as lower_time, coalesce(b.upper_time, f.upper_time) as upper_time,
      coalesce(b.lower_number, f.lower_number) as lower_number, coalesce(b.upper_number, f.upper_number) as upper_number,
      coalesce(b.lower_text, f.lower_text) as lower_text, coalesce(b.upper_text, f.upper_text) as upper_text,
      i.inhrelid = p.default_oid as is_default, false as is_archived, r.oid is not null as is_restored,
      null::bigint as archived_rows, null::bigint as archived_bytes
    from partkeeper.parent_keys() p
    join pg_catalog.pg_inherits i on i.inhparent = p.parent_oid
    left join partkeeper.partition_bound b on b.partition_oid = i.inhrelid and b.attached_xmin = i.xmin
      and b.key_kind is not distinct from p.key_kind and b.server_started_at = pg_catalog.pg_postmaster_start_time()
    -- Not recorded for this attachment: read and parsed now.
    left join lateral (
      select * from partkeeper.catalog_bound(i.inhrelid, p.key_kind)
      where b.partition_oid is null
      -- Kept whole, the condition stays a one-time test before the catalog read, not a filter after it.
      offset 0
    ) f on true
    left join (
      select distinct to_regclass(format('%I.%I', r.target_schema, r.target_name)) as oid
      from partkeeper.restore r where r.mode = 'attach' and r.state = 'attached'
    ) r on r.oid = i.inhrelid
    union all
    select p.parent_schema, p.parent_name, p.strategy, p.retention, p.retention_keys, p.max_key,
      null, a.partition_schema, a.partition_name, a.bound_expression, r.lower_time, r.upper_time, r.lower_number, r.upper_number,
      r.lower_text, r.upper_text, false, true, false, a.rows, a.bytes
    from partkeeper.parent_keys() p
    join partkeeper.archive a on a.parent_schema = p.parent_schema and a.parent_name = p.parent_name and a.state in ('dropped', 'kept')
    -- Recorded text, maybe from an older table: cast only what has the shape of the parent's bounds.
    cross join lateral partkeeper.range_bounds(a.bound_expression, case
      when p.strategy = 'range-time' and a.bound_expression ~ '^FOR VALUES FROM \\((MINVALUE|MAXVALUE|''[0-9]{4}-[0-9]{2}-[0-9]{2}[^''",(){}\\\\]*'')\\) TO \\((MINVALUE|MAXVALUE|''[0-9]{4}-[0-9]{2}-[0-9]{2}[^''",(){}\\\\]*'')\\)$' then 'time'
      when p.strategy = 'range-integer' and a.bound_expression ~ '^FOR VALUES FROM \\((MINVALUE|MAXVALUE|-?[0-9]+|''-?[0-9]+'')\\) TO \\((MINVALUE|MAXVALUE|-?[0-9]+|''-?[0-9]+'')\\)$' then 'integer'
    end) r
    -- Archived, then restored into the parent under its old name: the live row stands for it.
    where not exists (select 1 from pg_catalog.pg_inherits i
      where i.inhrelid = to_regclass(format('%I.%I', a.partition_schema, a.partition_name)) and i.inhparent = p.parent_oid)
  ) x
$fn$;

create or replace function partkeeper.partition_health(at timestamptz default now())
returns table (
  parent_schema text, parent_name text, strategy text, partition_schema text, partition_name text, partition_oid oid,
  bounds text, lower_bound text, upper_bound text, bound_order numeric, state text, rows bigint, archived_bytes bigint,
  last_analyze timestamptz, last_autovacuum timestamptz
)
language sql stable as $fn$
  select s.parent_schema, s.parent_name, s.strategy, coalesce(n.nspname::text, s.archived_schema), coalesce(c.relname::text, s.archived_name),
    s.partition_oid, s.bounds, s.lower_bound, s.upper_bound, s.bound_order, s.state,
    case when s.partition_oid is null then s.archived_rows else nullif(c.reltuples, -1)::bigint end, s.archived_bytes,
    greatest(pg_catalog.pg_stat_get_last_analyze_time(s.partition_oid), pg_catalog.pg_stat_get_last_autoanalyze_time(s.partition_oid)),
    pg_catalog.pg_stat_get_last_autovacuum_time(s.partition_oid)
  from partkeeper.partition_states(at) s
  left join pg_catalog.pg_class c on c.oid = s.partition_oid
  left join pg_catalog.pg_namespace n on n.oid = c.relnamespace
$fn$;

create or replace function partkeeper.parent_health(at timestamptz default now())
returns table (
  parent_schema text, parent_name text, strategy text, problem text, partitions bigint, partitions_ahead bigint,
  ahead_until text, default_partition_rows bigint, oldest_expiring text, archive_backlog bigint,
  last_maintain timestamptz, last_archive timestamptz, last_refresh_stats timestamptz, failed_runs_24h bigint
)
language sql stable as $fn$
  select s.parent_schema, s.parent_name, s.strategy, s.problem,
    coalesce(h.partitions, 0),
    case when s.strategy like 'range-%' then coalesce(h.ahead, 0) end,
    case when s.strategy like 'range-%' then h.ahead_until end,
    s.default_partition_rows, (select c.relname::text from pg_catalog.pg_class c where c.oid = h.oldest_expiring), coalesce(h.backlog, 0),
    s.last_maintain, s.last_archive, s.last_refresh_stats, s.failed_runs_24h
  from partkeeper.parent_status(at) s
  left join (
    select h.parent_schema, h.parent_name,
      count(*) filter (where h.state <> 'archived') as partitions,
      count(*) filter (where h.state = 'future') as ahead,
      -- The last current or future partition and the first expiring one in bound order (readHealth's order).
      (array_agg(h.upper_bound order by h.bound_order desc nulls first, h.partition_oid desc) filter (where h.state in ('current', 'future')))[1] as ahead_until,
      (array_agg(h.partition_oid order by h.bound_order, h.partition_oid) filter (where h.state = 'expiring'))[1] as oldest_expiring,
      count(*) filter (where h.state = 'expiring') as backlog
    -- Kept whole (OFFSET 0): inlined, each aggregate below would compute the state again.
    from (select * from partkeeper.partition_states(at) offset 0) h
    group by h.parent_schema, h.parent_name
  ) h on h.parent_schema = s.parent_schema and h.parent_name = s.parent_name
$fn$;

select partkeeper.record_partition_bounds();
`;
