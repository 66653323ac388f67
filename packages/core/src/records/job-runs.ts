import type { Sql } from "../db/client.ts";

/** `partkeeper.job_run` (migration 0001): one row per job run that was not a dry run. */

/** Records the start of a run of `job`; returns its id. */
export async function insertJobRun(sql: Sql, job: string): Promise<number> {
  const [row] = await sql`insert into partkeeper.job_run (job, dry_run) values (${job}, false) returning id::float8 as id`;
  return row!.id as number;
}

/** Records the end of run `id`: its status, summary (JSON) and the failures (null when none). */
export async function finishJobRun(sql: Sql, id: number, outcome: { readonly ok: boolean; readonly summary: unknown; readonly error: string | null }): Promise<void> {
  await sql`
    update partkeeper.job_run set finished_at = now(), status = ${outcome.ok ? "succeeded" : "failed"},
      summary = ${sql.json(JSON.parse(JSON.stringify(outcome.summary)))}, error = ${outcome.error}
    where id = ${id}`;
}
