import type postgres from "postgres";

/**
 * One change of `record` as the legacy application writes it, in one transaction: the counters of
 * record_version, a record_history row at the next version, and two field rows. Tests and the bench
 * use it as the application writing beside the migration; `i` varies the values.
 */
export async function writeLegacyChange(sql: postgres.Sql, record: string, i: number, changedBy = "writer"): Promise<void> {
  await sql.begin(async (tx) => {
    const [version] = await tx`
      update record_version set current_version = current_version + 1, total_changes = total_changes + 1, user_changes = user_changes + 1, updated_at = now()
      where record_id = ${record} returning current_version`;
    const [history] = await tx`
      insert into record_history (uid, record_id, version_number, change_type, change_source, changed_by, change_reason, created_at)
      values (gen_random_uuid(), ${record}, ${version!.current_version}, 'update', 'user', ${changedBy}, ${"live change " + i}, now()) returning id`;
    await tx`insert into record_field_history (history_id, field_name, old_value, new_value, reason) values
      (${history!.id}, 'title', ${"t" + i}, ${"t" + (i + 1)}, 'live'), (${history!.id}, 'status', 'draft', 'review', null)`;
  });
}
