/**
 * partkeeper's record of restores (restore/restore-partition.ts): one row per restore of an archived
 * partition into a side table or back under its parent, with the step it reached. The catalog stays
 * the source of truth (is the table there, attached, with the manifest's rows?); this table is the
 * audit trail and lets an interrupted restore resume into the empty table it created.
 */
export const sql = `
create table partkeeper.restore (
  id bigint generated always as identity primary key,
  parent_schema text not null,
  parent_name text not null,
  partition_schema text not null,
  partition_name text not null,
  mode text not null check (mode in ('attach', 'side-table')),
  target_schema text not null,
  target_name text not null,
  manifest_key text not null,
  rows bigint not null,
  state text not null check (state in ('loading', 'loaded', 'attached')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index restore_target on partkeeper.restore (target_schema, target_name, id);
`;
