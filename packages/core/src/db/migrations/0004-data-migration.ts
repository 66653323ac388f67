/**
 * Batched online migrations (DESIGN rule 10; migrate/):
 * - `data_migration`: one row per migration id of the config, its state and progress. `spec` is the
 *   part of the config entry that must not change once prepared (kind, table, column); `boundary` is
 *   the primary key of the last source row when capture started (pgroll #583: rows past it reach the
 *   copy through capture, never through the backfill); `watermark` the key of the last row backfilled,
 *   saved in the batch's own transaction; `verify_watermark` the last key range verification
 *   compared, so a verification cut short by a deadline continues where it stopped.
 * - `data_migration_step`: what each step did and when (prepare, backfill runs, verify, swap,
 *   rollback, finalize, pause, resume), for `migrate status` and for an operator reading the history.
 * Each migration's capture tables and trigger functions are created by the migration itself, under
 * this schema, named after its id.
 */
export const sql = `
create table partkeeper.data_migration (
  id text primary key,
  kind text not null,
  spec jsonb not null,
  state text not null,
  paused boolean not null default false,
  boundary text[],
  watermark text[],
  rows_copied bigint not null default 0,
  rows_estimate bigint,
  backfill_ms bigint not null default 0,
  batch_size int,
  verify_watermark text[],
  verified_at timestamptz,
  swapped_at timestamptz,
  finalized_at timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table partkeeper.data_migration_step (
  id bigserial primary key,
  migration_id text not null references partkeeper.data_migration (id) on delete cascade,
  step text not null,
  detail jsonb not null default '{}',
  at timestamptz not null default now()
);
create index on partkeeper.data_migration_step (migration_id, id);
`;
