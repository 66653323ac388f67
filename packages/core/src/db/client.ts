import postgres from "postgres";

export type Sql = postgres.Sql;

export interface ClientOptions {
  /** Pool size. Default 4: one parent at a time needs two (its lock's and its work's); see poolSizeFor. */
  readonly max?: number;
}

/**
 * Pool size for a job that works on `parents` parents at once: two connections each (the reserved
 * one holding the parent's advisory lock, and one for its catalog reads and DDL transactions), at
 * least 4. Fewer than `parents` + 1 would hang: every connection reserved for a lock, the work
 * waiting for one forever; fewer than two each would make parents wait for each other.
 */
export function poolSizeFor(parents: number): number {
  return Math.max(4, 2 * parents);
}

/**
 * Session default for lock waits, ms. DDL sets its own, shorter lock_timeout (DdlExecutor); this
 * one keeps an ordinary query (catalog sizes, COPY) from waiting forever behind a held lock.
 */
export const SESSION_LOCK_TIMEOUT_MS = 30_000;

/**
 * A postgres.js client with the session settings partkeeper relies on: TimeZone UTC (bounds
 * and exports are rendered in UTC), ISO dates, a lock_timeout default, and an application_name
 * visible in pg_stat_activity.
 */
export function createClient(databaseUrl: string, options: ClientOptions = {}): Sql {
  return postgres(databaseUrl, {
    max: options.max ?? 4,
    onnotice: () => {},
    connect_timeout: 10,
    connection: {
      TimeZone: "UTC",
      DateStyle: "ISO, MDY",
      application_name: "partkeeper",
      lock_timeout: SESSION_LOCK_TIMEOUT_MS,
      // The server notices a vanished client (a Lambda killed at its timeout) within about 90 s
      // instead of the OS default of hours, releasing the parent's advisory lock with the session.
      tcp_keepalives_idle: 60,
      tcp_keepalives_interval: 10,
      tcp_keepalives_count: 3,
    },
  });
}
