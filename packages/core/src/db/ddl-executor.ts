import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../context.ts";
import { LockTimeoutError } from "../errors.ts";
import type { Sql } from "./client.ts";

/**
 * DDL statements that must succeed or fail together. `transaction: false` is for statements
 * Postgres refuses inside a transaction block (`DETACH PARTITION ... CONCURRENTLY`); they run
 * one by one on a reserved connection with a session-level lock_timeout.
 */
export interface DdlStep {
  /** What this step does, for logs and `plan` output, e.g. `create partition public.events_p2024_01`. */
  readonly description: string;
  readonly statements: ReadonlyArray<string>;
  readonly transaction: boolean;
  /** REPEATABLE READ: every statement of the step sees one snapshot (a capture drain relies on it). */
  readonly isolation?: "repeatable read";
  /**
   * Send a transaction step's statements as one message (simple query protocol): one round trip
   * instead of one per statement, for many statements whose row counts are not needed (a batch of
   * `CREATE TABLE ... PARTITION OF`). The result is then empty.
   */
  readonly oneMessage?: boolean;
  /**
   * The step locks several tables the application writes, in an order the application's
   * transactions need not share, with a first `LOCK TABLE ... NOWAIT`: waiting for the second table
   * while holding the first would deadlock with a writer that holds the second and waits for the
   * first, and the writer, waiting longer, would be the one failed. NOWAIT never waits holding a
   * lock; the executor retries such a step ten times as often, starting at 25 ms apart.
   */
  readonly locksSeveralTables?: boolean;
}

/**
 * Work done in a transaction step's own transaction after its statements, on the same connection
 * (a record update that must commit or roll back with the DDL, a read that needs the step's locks).
 */
export type InTransaction = (tx: Sql) => Promise<void>;

export interface DdlExecutorOptions {
  readonly sql: Sql;
  /** Print instead of run: `plan` shows exactly the SQL `run` would execute (STYLE.md rule 9). */
  readonly dryRun: boolean;
  /** `lock_timeout` per statement, ms (DESIGN rule 1). */
  readonly lockTimeoutMs: number;
  /** Attempts before LockTimeoutError; waits between them grow exponentially with full jitter. */
  readonly attempts: number;
  readonly logger: Logger;
  /** Base wait before the second attempt, ms. Default 250. */
  readonly backoffMs?: number;
}

/**
 * A step that is not SQL (a write check, an export, an upload, a verification, a load): `plan` says
 * what it does as SQL comment lines (`-- load 304 rows from s3://... into "t"`), shown by `plan` and
 * `--dry-run` and kept in the run's statements; it may be empty for steps that only read or check.
 */
export interface WorkStep<T> {
  readonly description: string;
  readonly plan: ReadonlyArray<string>;
  readonly work: () => Promise<T>;
}

/** Rows affected per statement (postgres.js `count`), in statement order; empty in a dry run. */
export type DdlResult = ReadonlyArray<number>;

/** SQLSTATEs worth retrying: 55P03 lock_not_available (lock_timeout), 40P01 deadlock_detected. */
const RETRYABLE = new Set(["55P03", "40P01"]);

/**
 * The single choke point through which every step of a job goes (STYLE rule 9): DDL with
 * lock_timeout and retries (`run`), and work that is not SQL (`perform`). In a dry run both only
 * record the step, so `plan` and `--dry-run` print what a run does from the same code path.
 */
export class DdlExecutor {
  /** Every step seen, in order: the plan in a dry run, the applied statements otherwise. */
  readonly log: DdlStep[] = [];

  constructor(private readonly options: DdlExecutorOptions) {}

  get dryRun(): boolean {
    return this.options.dryRun;
  }

  /** The client, for the read-only checks appliers make between steps. */
  get sql(): Sql {
    return this.options.sql;
  }

  /**
   * Runs a step with `lock_timeout` and retries with backoff and jitter.
   * Throws LockTimeoutError (cause: the last Postgres error) when every attempt timed out;
   * other errors are thrown at once, the transaction rolled back.
   */
  async run(step: DdlStep, inTransaction?: InTransaction): Promise<DdlResult> {
    if (inTransaction && !step.transaction) throw new Error(`${step.description}: work in the transaction needs a transaction step`);
    this.log.push(step);
    if (this.options.dryRun) return [];
    const { logger } = this.options;
    const attempts = this.options.attempts * (step.locksSeveralTables ? 10 : 1);
    const backoffMs = step.locksSeveralTables ? 25 : (this.options.backoffMs ?? 250);
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      try {
        const result = await this.attempt(step, inTransaction);
        logger.info("ddl applied", { step: step.description, attempt, durationMs: Date.now() - started });
        return result;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (!code || !RETRYABLE.has(code)) throw error;
        if (attempt >= attempts) {
          throw new LockTimeoutError(
            `${step.description}: gave up after ${attempts} attempts with lock_timeout ${this.options.lockTimeoutMs} ms ` +
              `(${code}: ${(error as Error).message}); another session holds a conflicting lock: find it in pg_locks / pg_stat_activity and run again`,
            { cause: error },
          );
        }
        const waitMs = Math.round(Math.random() * Math.min(backoffMs * 2 ** (attempt - 1), 1000));
        logger.warn("ddl lock timeout, retrying", { step: step.description, attempt, waitMs, code });
        await sleep(waitMs);
      }
    }
  }

  /**
   * Records `step` and, unless this is a dry run, runs its work; returns the work's result, or null
   * in a dry run. Errors of the work are thrown as they are (no retries: the work retries itself).
   */
  async perform<T>(step: WorkStep<T>): Promise<T | null> {
    this.log.push({ description: step.description, statements: step.plan, transaction: false });
    if (this.options.dryRun) return null;
    const started = Date.now();
    const result = await step.work();
    this.options.logger.info("step done", { step: step.description, durationMs: Date.now() - started });
    return result;
  }

  private async attempt(step: DdlStep, inTransaction?: InTransaction): Promise<DdlResult> {
    const { sql, lockTimeoutMs } = this.options;
    const timeout = `${lockTimeoutMs}ms`;
    if (step.transaction) {
      return sql.begin(step.isolation ? `isolation level ${step.isolation}` : "", async (tx) => {
        await tx`select set_config('lock_timeout', ${timeout}, true)`;
        const counts: number[] = [];
        if (step.oneMessage) await tx.unsafe(step.statements.join(";\n"));
        else for (const statement of step.statements) counts.push((await tx.unsafe(statement)).count);
        if (inTransaction) await inTransaction(tx as unknown as Sql);
        return counts;
      });
    }
    const connection = await sql.reserve();
    try {
      await connection`select set_config('lock_timeout', ${timeout}, false)`;
      const counts: number[] = [];
      for (const statement of step.statements) counts.push((await connection.unsafe(statement)).count);
      return counts;
    } finally {
      await connection`reset lock_timeout`.catch(() => {});
      connection.release();
    }
  }
}

/** The executor of a job: the config's lock_timeout and attempts, the job's logger. */
export function jobDdlExecutor(
  ctx: { readonly sql: Sql; readonly logger: Logger; readonly config: { readonly lockTimeoutMs: number; readonly ddlAttempts: number } },
  dryRun: boolean,
): DdlExecutor {
  return new DdlExecutor({
    sql: ctx.sql,
    dryRun,
    lockTimeoutMs: ctx.config.lockTimeoutMs,
    attempts: ctx.config.ddlAttempts,
    logger: ctx.logger,
  });
}
