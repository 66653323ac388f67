/** partkeeper's own schema: job runs and the archive state machine (DESIGN rule 6). */
export const sql = `
create schema if not exists partkeeper;

create table partkeeper.job_run (
  id bigint generated always as identity primary key,
  job text not null,
  dry_run boolean not null,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  status text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
  summary jsonb,
  error text
);

create table partkeeper.archive (
  id bigint generated always as identity primary key,
  parent_schema text not null,
  parent_name text not null,
  partition_schema text not null,
  partition_name text not null,
  bound_expression text not null,
  state text not null check (state in ('intent', 'detached', 'exported', 'verified', 'dropped', 'kept')),
  object_key text,
  manifest_key text,
  rows bigint,
  bytes bigint,
  sha256 text,
  job_run_id bigint references partkeeper.job_run (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- One live archive per partition name: a name may be archived again only after its last archive finished.
create unique index archive_live_partition on partkeeper.archive (partition_schema, partition_name)
  where state not in ('dropped', 'kept');
`;
