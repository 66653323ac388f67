import { isMajorVersion } from "./major-version.ts";

/**
 * Typical reads of the legacy application, written against the legacy table names. Each takes
 * `$1 uuid`, a record uid, and orders its rows completely, so the same query returns the same rows
 * before cutover (from the tables) and after it (from the compatibility views of migration.ts).
 * They select only what the views carry: not the field row's own id, and snapshots at major
 * versions only (README.md).
 */
export const oldQueries: ReadonlyArray<{ readonly name: string; readonly sql: string }> = [
  {
    name: "history of a record with its field changes",
    sql: `select h.id, h.uid, h.version_number, h.change_type, h.change_source, h.changed_by, h.change_reason, h.created_at,
        f.field_name, f.old_value, f.new_value, f.reason
      from record_history h left join record_field_history f on f.history_id = h.id
      where h.record_id = $1
      order by h.version_number, f.field_name`,
  },
  {
    name: "fields changed by one change (the record's latest)",
    sql: `select f.history_id, f.field_name, f.old_value, f.new_value, f.reason
      from record_field_history f
      where f.history_id = (select id from record_history where record_id = $1 order by version_number desc limit 1)
      order by f.field_name`,
  },
  {
    name: "current version of a record",
    sql: `select v.record_id, v.current_version, v.total_changes, v.user_changes, v.admin_changes, v.system_changes, v.updated_at,
        h.uid as change_uid, h.change_type, h.changed_by, h.created_at as changed_at
      from record_version v join record_history h on h.record_id = v.record_id and h.version_number = v.current_version
      where v.record_id = $1`,
  },
  {
    name: "major-version snapshots of a record",
    sql: `select s.id, s.version_number, s.snapshot, s.created_at
      from record_snapshot s
      where s.record_id = $1 and ${isMajorVersion("s.version_number")}
      order by s.version_number, s.id`,
  },
  {
    name: "restores of a record",
    sql: `select r.id, r.history_id, r.restored_from_version, r.restored_by, r.created_at, h.version_number, h.change_reason
      from record_restore r join record_history h on h.id = r.history_id
      where r.record_id = $1
      order by r.created_at, r.id`,
  },
  {
    name: "latest 20 changes across all records up to the record's last change",
    sql: `select h.id, h.record_id, h.version_number, h.change_type, h.changed_by, h.created_at, r.title
      from record_history h join record r on r.uid = h.record_id
      where h.created_at <= (select max(created_at) from record_history where record_id = $1)
      order by h.created_at desc, h.id desc
      limit 20`,
  },
  {
    name: "latest 20 changes to the records of the record's owner",
    sql: `select h.id, h.record_id, h.version_number, h.change_type, h.change_source, h.changed_by, h.created_at
      from record_history h join record r on r.uid = h.record_id
      where r.owner = (select owner from record where uid = $1)
      order by h.created_at desc, h.id desc
      limit 20`,
  },
];
