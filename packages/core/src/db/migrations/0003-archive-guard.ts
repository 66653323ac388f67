/**
 * Archive hardening (DESIGN rules 6 and 11):
 * - `archive.attempt`: which export of the partition is current. Each attempt writes its own data
 *   object (archive-keys.ts), so a stored object that failed verification is never reused and never
 *   overwritten (written once); `last_error` says why the previous attempt failed; `export_sha256`
 *   is the SHA-256 of the exported file, which the stored object must match byte for byte.
 * - `partkeeper.archive_guard()`: a statement-level trigger function installed on a partition from
 *   its detach until its drop, so a write into the detached partition (by name) fails loudly instead
 *   of being lost with the drop. It lets writes through while the table is attached again (an
 *   operator re-attached it, or partkeeper did after a failed export), because such writes reach the
 *   parent's data and the next run exports the partition anew.
 */
export const sql = `
alter table partkeeper.archive
  add column attempt int not null default 1,
  add column export_sha256 text,
  add column last_error text;

create function partkeeper.archive_guard() returns trigger language plpgsql as $fn$
begin
  if exists (select 1 from pg_catalog.pg_inherits where inhrelid = tg_relid and not inhdetachpending) then
    return null;
  end if;
  raise exception 'partition %.% is detached and being archived by partkeeper: it is read-only until it is dropped', tg_table_schema, tg_table_name
    using errcode = 'object_not_in_prerequisite_state',
          hint = 'write through the parent table; to keep this partition, re-attach it before the archive job drops it';
end
$fn$;

-- Run in the drop's transaction, after LOCK TABLE: refuses to drop a partition that is attached or
-- whose guard is missing or disabled (a write could then have reached it after verification).
create function partkeeper.assert_archive_guard(partition regclass) returns void language plpgsql as $fn$
begin
  if exists (select 1 from pg_catalog.pg_inherits where inhrelid = partition) then
    raise exception '% is attached to a parent again: it is not dropped', partition
      using errcode = 'object_not_in_prerequisite_state';
  end if;
  if not exists (select 1 from pg_catalog.pg_trigger t join pg_catalog.pg_proc p on p.oid = t.tgfoid
                 join pg_catalog.pg_namespace n on n.oid = p.pronamespace
                 where t.tgrelid = partition and n.nspname = 'partkeeper' and p.proname = 'archive_guard' and t.tgenabled = 'A') then
    raise exception '% lost its partkeeper archive guard (trigger dropped or disabled) after verification: it is not dropped', partition
      using errcode = 'object_not_in_prerequisite_state';
  end if;
end
$fn$;
`;
