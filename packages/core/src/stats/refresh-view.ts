import { setTimeout as sleep } from "node:timers/promises";
import type { MaterializedViewPolicy } from "../config/schema.ts";
import type { Sql } from "../db/client.ts";
import { quoteQualified } from "../db/sql-text.ts";
import { displayName } from "../identifier.ts";
import type { StatsWorkStatus } from "../records/stats-refreshes.ts";

/** What one refresh did. */
export interface RefreshOutcome {
  readonly status: StatsWorkStatus;
  /** `concurrently` or `plain`; null when the view was refused before any refresh. */
  readonly mode: "concurrently" | "plain" | null;
  readonly durationMs: number;
  /** Rows of the view after the refresh; null unless ok. */
  readonly rows: number | null;
  readonly message: string | null;
  /** A plain refresh chosen by `auto` (readers wait while it runs): logged as a warning. */
  readonly warning: string | null;
}

export interface RefreshLimits {
  /** lock_timeout of the refresh, ms. */
  readonly lockTimeoutMs: number;
  /** Attempts when the refresh's lock is not granted within lock_timeout (55P03), with exponential backoff. */
  readonly attempts: number;
  /** statement_timeout of the refresh, ms: what is left of the run's budget. */
  readonly budgetMs: number;
}

/** SQLSTATEs: lock_not_available (lock_timeout), query_canceled (statement_timeout). */
const LOCK_NOT_AVAILABLE = "55P03";
const QUERY_CANCELED = "57014";

/**
 * Refreshes one materialized view. CONCURRENTLY (readers go on; Postgres takes EXCLUSIVE, not ACCESS
 * EXCLUSIVE) needs a unique index on plain columns without WHERE and a populated view (Postgres docs,
 * REFRESH MATERIALIZED VIEW); `auto` uses it when possible, else refreshes plainly and warns. The
 * refresh holds a transaction-level advisory lock on the view's name: a second refresh of the same view
 * by another partkeeper run is skipped, never queued (pg_cron users' overlapping-refresh problem).
 * Never throws for the view's own problems (missing, not a materialized view, no usable index, lock
 * timeout, budget): they are the outcome's status and message.
 */
export async function refreshView(sql: Sql, policy: MaterializedViewPolicy, limits: RefreshLimits): Promise<RefreshOutcome> {
  const started = performance.now();
  const done = (status: StatsWorkStatus, mode: RefreshOutcome["mode"], message: string | null, rows: number | null = null, warning: string | null = null): RefreshOutcome => ({
    status,
    mode,
    durationMs: Math.round(performance.now() - started),
    rows,
    message,
    warning,
  });
  const name = displayName(policy.view);
  const [view] = await sql`
    select c.relkind::text as relkind, c.relispopulated as populated,
      exists (select 1 from pg_catalog.pg_index i where i.indrelid = c.oid and i.indisunique and i.indisvalid
              and i.indpred is null and i.indexprs is null) as "uniqueIndex"
    from pg_catalog.pg_class c where c.oid = to_regclass(${quoteQualified(policy.view)})`;
  if (!view) return done("failed", null, `${name} does not exist: create it, or remove it from stats.materializedViews`);
  if (view.relkind !== "m") {
    const what = { r: "a table", p: "a partitioned table", v: "a view", f: "a foreign table" }[view.relkind as string] ?? `a relation of kind ${view.relkind}`;
    return done("failed", null, `${name} is ${what}, not a materialized view: only materialized views can be refreshed`);
  }
  const usable = view.uniqueIndex && view.populated;
  if (policy.concurrently === "always" && !usable) {
    const why = view.uniqueIndex ? "is not populated yet (its first refresh cannot be CONCURRENTLY)" : "has no unique index on plain columns without WHERE";
    return done("failed", null, `${name} ${why}, and concurrently is "always": create such an index (or refresh it once plainly), or set concurrently to "auto"`);
  }
  const mode = policy.concurrently !== "never" && usable ? "concurrently" : "plain";
  const warning =
    policy.concurrently === "auto" && mode === "plain"
      ? `${name} is refreshed without CONCURRENTLY (${view.uniqueIndex ? "not populated yet" : "no unique index on plain columns without WHERE"}): readers wait for the refresh`
      : null;

  for (let attempt = 1; ; attempt++) {
    try {
      const result = await sql.begin(async (tx) => {
        await tx`select set_config('lock_timeout', ${`${limits.lockTimeoutMs}ms`}, true), set_config('statement_timeout', ${`${Math.max(1, Math.round(limits.budgetMs))}ms`}, true)`;
        const [lock] = await tx`select pg_try_advisory_xact_lock(hashtextextended(${`partkeeper:refresh:${quoteQualified(policy.view)}`}, 0)) as acquired`;
        if (!lock!.acquired) return null;
        await tx.unsafe(`refresh materialized view ${mode === "concurrently" ? "concurrently " : ""}${quoteQualified(policy.view)}`);
        const [count] = await tx.unsafe(`select count(*)::float8 as rows from ${quoteQualified(policy.view)}`);
        return count!.rows as number;
      });
      if (result === null) return done("skipped", mode, `another partkeeper run is refreshing ${name}: skipped, not queued`);
      return done("ok", mode, null, result, warning);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === QUERY_CANCELED) {
        return done("stopped", mode, `${name}: the refresh took longer than the ${Math.round(limits.budgetMs)} ms left of the budget (stats.budgetSeconds) and was cancelled; it is first in line on the next run`);
      }
      if (code === LOCK_NOT_AVAILABLE && attempt < limits.attempts) {
        await sleep(Math.min(250 * 2 ** (attempt - 1), 5000));
        continue;
      }
      if (code === LOCK_NOT_AVAILABLE) {
        return done("failed", mode, `${name}: gave up after ${attempt} attempts with lock_timeout ${limits.lockTimeoutMs} ms; another session holds a conflicting lock: find it in pg_locks`, null, warning);
      }
      return done("failed", mode, `${name}: ${(error as Error).message}`, null, warning);
    }
  }
}
