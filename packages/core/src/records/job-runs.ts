import type { Sql } from "../db/client.ts";
import { schemaVersion } from "../db/migrate.ts";

/** `partkeeper.job_run` (migration 0001): one row per job run that was not a dry run. */

/** A finished or running job run, as `status` shows it. */
export interface JobRunStatus {
  readonly job: string;
  readonly status: string;
  /** ISO-8601 UTC. */
  readonly startedAt: string;
  readonly durationMs: number | null;
  readonly error: string | null;
}

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

/** The `limit` most recent runs, newest first (empty before partkeeper's schema exists). */
export async function readRecentJobRuns(sql: Sql, limit: number): Promise<JobRunStatus[]> {
  if ((await schemaVersion(sql)) < 1) return [];
  const rows = await sql`
    select job, status, started_at, (extract(epoch from finished_at - started_at) * 1000)::float8 as duration_ms, error
    from partkeeper.job_run where not dry_run order by id desc limit ${limit}`;
  return rows.map((r) => ({
    job: r.job as string,
    status: r.status as string,
    startedAt: new Date(r.started_at).toISOString(),
    durationMs: r.duration_ms === null ? null : Math.round(r.duration_ms as number),
    error: (r.error as string | null) ?? null,
  }));
}
