/**
 * The health views of migration 0006, set-based: the same columns, each bound parsed once per row, and
 * no work per row that a column does not need (issue 11: 1,000 parents and 100,000 partitions; figures
 * in docs/figures.md). 0006's functions parsed every bound with `regexp_match`, which the planner copied
 * into each use of its result (about 13 per row); they read `pg_stat_all_tables`, which groups all tables
 * of the database; they looked up restores per row; and `partitions` measured every partition even for
 * `count(*)` or one parent.
 *
 * - `partition_health(at)`: a bound is cast as a whole: `FOR VALUES FROM ('a') TO ('b')` becomes the
 *   array literal `{a,b}`, read as `timestamptz[]` or `numeric[]` in a LATERAL subquery that OFFSET 0
 *   keeps from being inlined, so the cast runs once per row; the state is computed once the same way.
 *   Only bounds that cannot fail are cast: a live partition's when the parent's key (its operator class)
 *   is a timestamp, date or integer type, since Postgres printed the bound in this session; an archived
 *   one's when its recorded text has that shape. Integer bounds are numbers now: Postgres quotes bigint
 *   and negative ones (`'-5'`), which 0006 read as no number, so a bigint range-integer parent's
 *   partitions were all `current`; MINVALUE and MAXVALUE order as -Infinity and Infinity. Each parent's
 *   partitions are read by index (a LATERAL per parent), statistics with `pg_stat_get_*(oid)`, restores
 *   by a hash join, and archived partitions attached again are left out by an anti-join.
 * - `parent_status(at)`: what a parent's health says besides its partitions: problem, rows in the
 *   default partition (0 without counting when it has no pages), last successful run of each job,
 *   failed runs. `parent_health(at)` joins it with the counts over `partition_health(at)`; readHealth
 *   counts in JS the partitions it reads anyway, by the same rules.
 * - `relation_bytes(oid)`: pg_total_relation_size declared stable, so that `partitions` measures only
 *   the rows a query keeps (a volatile column is computed even when unused).
 * - `archive_catalog` and `materialized_views` join their last restore / last refresh instead of
 *   looking it up per row.
 * - `bound_time` and `bound_number` are dropped: nothing uses them.
 */
export const sql = `
create function partkeeper.relation_bytes(rel oid) returns bigint language sql stable strict as $fn$
  select pg_catalog.pg_total_relation_size(rel)
$fn$;

create or replace function partkeeper.partition_health(at timestamptz default now())
returns table (
  parent_schema text, parent_name text, strategy text, partition_schema text, partition_name text, partition_oid oid,
  bounds text, lower_bound text, upper_bound text, bound_order numeric, state text, rows bigint, archived_bytes bigint,
  last_analyze timestamptz, last_autovacuum timestamptz
)
language sql stable as $fn$
  select x.parent_schema, x.parent_name, x.strategy, x.partition_schema, x.partition_name, x.partition_oid, x.bounds,
    case when x.strategy = 'range-time' then to_char(b.times[1] at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') else b.texts[1] end,
    case when x.strategy = 'range-time' then to_char(b.times[2] at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') else b.texts[2] end,
    coalesce(extract(epoch from b.times[1]), b.numbers[1]),
    s.state, x.rows, x.archived_bytes, x.last_analyze, x.last_autovacuum
  from (
    select p.parent_schema, p.parent_name, p.strategy, p.retention, p.retention_keys, p.max_key,
      l.partition_schema, l.partition_name, l.partition_oid, l.bounds, p.key_kind, l.partition_oid = p.partdefid as is_default,
      l.rows, null::bigint as archived_bytes, l.last_analyze, l.last_autovacuum, false as is_archived, r.target_name is not null as is_restored
    from (
      select m.*, k.oid, pt.partdefid,
        case when pt.partstrat = 'r' /* range */ and pt.partnatts = 1 then case
          when m.strategy = 'range-time' and oc.opcintype in ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) then 'time'
          when m.strategy = 'range-integer' and oc.opcintype in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) then 'integer'
        end end as key_kind
      from partkeeper.managed_parent m
      -- Once per parent: inlined, the planner may evaluate to_regclass again in each join on it.
      cross join lateral (select to_regclass(format('%I.%I', m.parent_schema, m.parent_name)) as oid offset 0) k
      left join pg_catalog.pg_partitioned_table pt on pt.partrelid = k.oid
      left join pg_catalog.pg_opclass oc on oc.oid = pt.partclass[0]
    ) p
    -- Per parent, by index: joined whole, the planner reads all of pg_class (every index and TOAST table too).
    cross join lateral (
      select n.nspname::text as partition_schema, c.relname::text as partition_name, c.oid as partition_oid,
        -- 0, not c.oid: a bound holds only constants, so the partition need not be opened to print it.
        pg_catalog.pg_get_expr(c.relpartbound, 0) as bounds, nullif(c.reltuples, -1)::bigint as rows,
        greatest(pg_catalog.pg_stat_get_last_analyze_time(c.oid), pg_catalog.pg_stat_get_last_autoanalyze_time(c.oid)) as last_analyze,
        pg_catalog.pg_stat_get_last_autovacuum_time(c.oid) as last_autovacuum
      from pg_catalog.pg_inherits i
      join pg_catalog.pg_class c on c.oid = i.inhrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where i.inhparent = p.oid
      offset 0
    ) l
    left join (select distinct r.target_schema, r.target_name from partkeeper.restore r where r.mode = 'attach' and r.state = 'attached') r
      on r.target_schema = l.partition_schema and r.target_name = l.partition_name
    union all
    select m.parent_schema, m.parent_name, m.strategy, m.retention, m.retention_keys, m.max_key,
      a.partition_schema, a.partition_name, null, a.bound_expression,
      -- Recorded text, maybe from an older table: cast only what has the shape of the parent's bounds.
      case
        when m.strategy = 'range-time' and a.bound_expression ~ '^FOR VALUES FROM \\((MINVALUE|MAXVALUE|''[0-9]{4}-[0-9]{2}-[0-9]{2}[^''",(){}\\\\]*'')\\) TO \\((MINVALUE|MAXVALUE|''[0-9]{4}-[0-9]{2}-[0-9]{2}[^''",(){}\\\\]*'')\\)$' then 'time'
        when m.strategy = 'range-integer' and a.bound_expression ~ '^FOR VALUES FROM \\((MINVALUE|MAXVALUE|-?[0-9]+|''-?[0-9]+'')\\) TO \\((MINVALUE|MAXVALUE|-?[0-9]+|''-?[0-9]+'')\\)$' then 'integer'
      end,
      false, a.rows, a.bytes, null, null, true, false
    from partkeeper.managed_parent m
    join partkeeper.archive a on a.parent_schema = m.parent_schema and a.parent_name = m.parent_name and a.state in ('dropped', 'kept')
    -- Archived, then restored into the parent under its old name: the live row stands for it.
    cross join lateral (select to_regclass(format('%I.%I', a.partition_schema, a.partition_name)) as oid,
                               to_regclass(format('%I.%I', m.parent_schema, m.parent_name)) as parent_oid offset 0) k
    where not exists (select 1 from pg_catalog.pg_inherits i where i.inhrelid = k.oid and i.inhparent = k.parent_oid)
  ) x
  cross join lateral (
    select
      case when x.key_kind = 'time' then replace(replace(y.literal, 'MINVALUE', '-infinity'), 'MAXVALUE', 'infinity')::timestamptz[] end as times,
      case when x.key_kind = 'integer' then replace(replace(y.literal, 'MINVALUE', '-Infinity'), 'MAXVALUE', 'Infinity')::numeric[] end as numbers,
      -- As text: integers without quotes; other range bounds as Postgres prints them (lower_bound, upper_bound).
      case when x.key_kind = 'integer' then y.literal::text[]
        when x.key_kind is null and x.bounds like 'FOR VALUES FROM (%) TO (%)' then regexp_match(x.bounds, '^FOR VALUES FROM \\((.*)\\) TO \\((.*)\\)$')
      end as texts
    from (
      select case when x.bounds like 'FOR VALUES FROM (%) TO (%)'
        then '{' || left(replace(replace(substr(x.bounds, 18), ') TO (', ','), '''', ''), -1) || '}' end as literal
    ) y
    offset 0
  ) b
  -- Once per row too: the aggregates of parent_health would each compute it again.
  cross join lateral (
    select case
      when x.is_archived then 'archived'
      when x.is_default then 'default'
      when x.is_restored then 'restored'
      when x.strategy = 'range-time' then case
        when b.times[2] <= at - x.retention then 'expiring'
        when b.times[2] <= at then 'past'
        when b.times[1] > at then 'future'
        else 'current' end
      when x.strategy = 'range-integer' then case
        when x.max_key is null then 'future'
        when b.numbers[2] <= x.max_key - x.retention_keys then 'expiring'
        when b.numbers[2] <= x.max_key then 'past'
        when b.numbers[1] > x.max_key then 'future'
        else 'current' end
      else 'live'
    end as state
    offset 0
  ) s
$fn$;

create function partkeeper.parent_status(at timestamptz default now())
returns table (
  parent_schema text, parent_name text, strategy text, problem text, default_partition_rows bigint,
  last_maintain timestamptz, last_archive timestamptz, last_refresh_stats timestamptz, failed_runs_24h bigint
)
language sql stable as $fn$
  select m.parent_schema, m.parent_name, m.strategy,
    case when k.oid is null then 'does not exist' when pt.partrelid is null then 'is not a partitioned table' end,
    -- A default partition of no pages has no rows: no count, whose planning costs more than the reading.
    case when pt.partdefid = 0 then null when pg_catalog.pg_relation_size(pt.partdefid) = 0 then 0 else partkeeper.default_partition_rows(k.oid) end,
    r.last_maintain, r.last_archive, r.last_refresh_stats, coalesce(r.failed, 0)
  from partkeeper.managed_parent m
  cross join lateral (select to_regclass(format('%I.%I', m.parent_schema, m.parent_name)) as oid offset 0) k
  left join pg_catalog.pg_partitioned_table pt on pt.partrelid = k.oid
  left join (
    select r.parent_schema, r.parent_name,
      max(r.finished_at) filter (where r.job = 'maintain' and r.status = 'ok') as last_maintain,
      max(r.finished_at) filter (where r.job = 'archive' and r.status = 'ok') as last_archive,
      max(r.finished_at) filter (where r.job = 'refresh-stats' and r.status = 'ok') as last_refresh_stats,
      count(*) filter (where r.status = 'failed' and r.finished_at > at - interval '24 hours') as failed
    from partkeeper.parent_run r
    group by r.parent_schema, r.parent_name
  ) r on r.parent_schema = m.parent_schema and r.parent_name = m.parent_name
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
    s.default_partition_rows, h.oldest_expiring, coalesce(h.backlog, 0),
    s.last_maintain, s.last_archive, s.last_refresh_stats, s.failed_runs_24h
  from partkeeper.parent_status(at) s
  left join (
    select h.parent_schema, h.parent_name,
      count(*) filter (where h.state <> 'archived') as partitions,
      count(*) filter (where h.state = 'future') as ahead,
      -- The last current or future partition and the first expiring one in bound order (readHealth's order).
      (array_agg(h.upper_bound order by h.bound_order desc nulls first, h.partition_name desc) filter (where h.state in ('current', 'future')))[1] as ahead_until,
      (array_agg(h.partition_name order by h.bound_order, h.partition_name) filter (where h.state = 'expiring'))[1] as oldest_expiring,
      count(*) filter (where h.state = 'expiring') as backlog
    from partkeeper.partition_health(at) h
    group by h.parent_schema, h.parent_name
  ) h on h.parent_schema = s.parent_schema and h.parent_name = s.parent_name
$fn$;

drop function partkeeper.bound_time(text);
drop function partkeeper.bound_number(text);

create or replace view partkeeper.partitions as
  select h.parent_schema, h.parent_name, h.strategy, h.partition_schema, h.partition_name, h.bounds, h.lower_bound, h.upper_bound,
    h.state, h.rows, coalesce(partkeeper.relation_bytes(h.partition_oid), h.archived_bytes) as total_bytes,
    h.last_analyze, h.last_autovacuum
  from partkeeper.partition_health() h;

create or replace view partkeeper.archive_catalog as
  select a.parent_schema, a.parent_name, a.partition_schema, a.partition_name, a.bound_expression as bounds, a.state,
    a.object_key, a.manifest_key, a.rows, a.bytes, a.sha256, a.verified_at, r.last_restored_at
  from partkeeper.archive a
  left join (
    select r.partition_schema, r.partition_name, max(r.updated_at) as last_restored_at
    from partkeeper.restore r
    group by r.partition_schema, r.partition_name
  ) r on r.partition_schema = a.partition_schema and r.partition_name = a.partition_name
  where a.state in ('verified', 'dropped', 'kept');

create or replace view partkeeper.materialized_views as
  select distinct on (s.relation_schema, s.relation_name) s.relation_schema as view_schema, s.relation_name as view_name,
    s.status as last_status, s.started_at as last_attempt_at, s.duration_ms as last_duration_ms, s.message as last_message,
    o.last_refresh_at
  from partkeeper.stats_refresh s
  left join (
    select o.relation_schema, o.relation_name, max(o.started_at) as last_refresh_at
    from partkeeper.stats_refresh o
    where o.kind = 'refresh' and o.status = 'ok'
    group by o.relation_schema, o.relation_name
  ) o on o.relation_schema = s.relation_schema and o.relation_name = s.relation_name
  where s.kind = 'refresh'
  order by s.relation_schema, s.relation_name, s.started_at desc;
`;
