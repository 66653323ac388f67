import type { TablePolicy } from "../config/schema.ts";
import type { Sql } from "../db/client.ts";
import type { QualifiedName } from "../identifier.ts";

/**
 * `partkeeper.managed_parent` and `partkeeper.parent_run` (migration 0006): what the health views
 * need that the catalog does not hold. Every job run that is not a dry run records the policies it
 * ran with and one outcome per parent.
 */

/** How long per-parent outcomes are kept: the views look back 24 hours, people a month. */
const PARENT_RUN_DAYS = 35;

/** A calendar retention as a Postgres interval (`"1 years 3 months"`; quarters as 3 months, which Postgres lacks). */
export function retentionInterval(policy: TablePolicy): string | null {
  if (policy.strategy !== "range-time" || !policy.retention) return null;
  const { quarters = 0, ...rest } = policy.retention;
  const parts = Object.entries({ ...rest, months: (rest.months ?? 0) + 3 * quarters }).filter(([, n]) => n);
  return parts.map(([unit, n]) => `${n} ${unit}`).join(" ");
}

/**
 * Records the policies of `policies` (one statement). With `replaceAll`, parents not among them are
 * removed: the config no longer lists them (a run over a `--table` selection passes false).
 */
export async function recordManagedParents(sql: Sql, policies: ReadonlyArray<TablePolicy>, replaceAll: boolean): Promise<void> {
  const rows = policies.map((p) => ({
    schema: p.parent.schema,
    name: p.parent.name,
    strategy: p.strategy,
    retention: retentionInterval(p),
    retentionKeys: p.strategy === "range-integer" && p.retention !== undefined ? String(p.retention) : null,
    policy: p,
  }));
  await sql.begin(async (tx) => {
    if (replaceAll) {
      await tx`delete from partkeeper.managed_parent m where not exists (
        select 1 from jsonb_to_recordset(${tx.json(rows.map((r) => ({ schema: r.schema, name: r.name })))}) as k(schema text, name text)
        where k.schema = m.parent_schema and k.name = m.parent_name)`;
    }
    await tx`
      insert into partkeeper.managed_parent (parent_schema, parent_name, strategy, retention, retention_keys, policy, updated_at)
      select r.schema, r.name, r.strategy, r.retention::interval, r."retentionKeys"::numeric, r.policy, now()
      from jsonb_to_recordset(${tx.json(JSON.parse(JSON.stringify(rows)))}) as r(schema text, name text, strategy text, retention text, "retentionKeys" text, policy jsonb)
      on conflict (parent_schema, parent_name) do update set strategy = excluded.strategy, retention = excluded.retention,
        retention_keys = excluded.retention_keys, policy = excluded.policy, updated_at = excluded.updated_at`;
  });
}

/** A range-integer parent's max(key) as a maintain run saw it (text, as Postgres prints it; null: no rows). */
export interface MaxKeyRecord {
  readonly parent: QualifiedName;
  readonly maxKey: string | null;
}

/** Records range-integer parents' max(key) (the views' "current" partition), in one statement. */
export async function recordMaxKeys(sql: Sql, records: ReadonlyArray<MaxKeyRecord>): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((r) => ({ schema: r.parent.schema, name: r.parent.name, max_key: r.maxKey }));
  await sql`
    update partkeeper.managed_parent m set max_key = r.max_key::numeric
    from jsonb_to_recordset(${sql.json(rows)}) as r(schema text, name text, max_key text)
    where m.parent_schema = r.schema and m.parent_name = r.name`;
}

/** One parent's outcome in a job run. */
export interface ParentRunOutcome {
  readonly parent: QualifiedName;
  readonly status: "ok" | "failed" | "skipped";
  readonly error?: string | null | undefined;
}

/** Records each parent's outcome of run `jobRunId` of `job` (one statement), and forgets outcomes older than 35 days. */
export async function recordParentRuns(sql: Sql, jobRunId: number, job: string, outcomes: ReadonlyArray<ParentRunOutcome>): Promise<void> {
  if (outcomes.length === 0) return;
  const rows = outcomes.map((o) => ({ schema: o.parent.schema, name: o.parent.name, status: o.status, error: o.error ?? null }));
  await sql`
    insert into partkeeper.parent_run (job_run_id, parent_schema, parent_name, job, status, error)
    select ${jobRunId}, r.schema, r.name, ${job}, r.status, r.error
    from jsonb_to_recordset(${sql.json(rows)}) as r(schema text, name text, status text, error text)
    on conflict do nothing`;
  await sql`delete from partkeeper.parent_run where finished_at < now() - make_interval(days => ${PARENT_RUN_DAYS})`;
}
