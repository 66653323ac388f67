import type postgres from "postgres";

/** What historyAgreement counts; every field but the totals is 0 when the old and new tables agree. */
export interface HistoryAgreement {
  oldChanges: number;
  newChanges: number;
  /** (record_id, version_number) of record_history missing from record_history_v2, and the other way round. */
  versionsMissing: number;
  versionsExtra: number;
  /** (record_id, version_number) held twice by record_history_v2. */
  versionsTwice: number;
  oldFields: number;
  newFields: number;
  /** Field rows whose field_changes entry differs (old, new, reason). */
  fieldsDiffering: number;
  /** Records whose record_version counters differ from record_version_v2's. */
  countersDiffering: number;
  majorSnapshots: number;
}

/**
 * The example's consolidation checks (examples/record-history), as counts over the whole tables:
 * versions per record, field changes and counters of the five old tables against the new ones. Reads
 * the old tables under their names, or as `<name>_retired` after cutover when `retired`.
 */
export async function historyAgreement(sql: postgres.Sql, options: { retired?: boolean } = {}): Promise<HistoryAgreement> {
  const old = (name: string) => (options.retired ? `${name}_retired` : name);
  const [row] = await sql.unsafe<HistoryAgreement[]>(`
    select
      (select count(*) from ${old("record_history")})::int as "oldChanges",
      (select count(*) from record_history_v2)::int as "newChanges",
      (select count(*) from (select record_id, version_number from ${old("record_history")} except select record_id, version_number from record_history_v2) x)::int as "versionsMissing",
      (select count(*) from (select record_id, version_number from record_history_v2 except select record_id, version_number from ${old("record_history")}) x)::int as "versionsExtra",
      (select count(*) from (select record_id, version_number from record_history_v2 group by 1, 2 having count(*) > 1) x)::int as "versionsTwice",
      (select count(*) from ${old("record_field_history")})::int as "oldFields",
      (select count(*) from record_history_v2 v, jsonb_each(v.field_changes))::int as "newFields",
      (select count(*) from ${old("record_field_history")} f join record_history_v2 v on v.id = f.history_id
         where v.field_changes -> f.field_name is distinct from jsonb_strip_nulls(jsonb_build_object('old', f.old_value, 'new', f.new_value, 'reason', f.reason)))::int as "fieldsDiffering",
      (select count(*) from (select record_id, total_changes, user_changes, admin_changes, system_changes, current_version from ${old("record_version")}
         except select record_id, total_changes, user_changes, admin_changes, system_changes, current_version from record_version_v2) x)::int as "countersDiffering",
      (select count(*) from record_major_snapshot)::int as "majorSnapshots"`);
  return row!;
}

/** historyAgreement's expectation: everything agrees, and as many changes and field rows on both sides. */
export function agreed(a: HistoryAgreement): Partial<HistoryAgreement> {
  return { versionsMissing: 0, versionsExtra: 0, versionsTwice: 0, fieldsDiffering: 0, countersDiffering: 0, newChanges: a.oldChanges, newFields: a.oldFields };
}
