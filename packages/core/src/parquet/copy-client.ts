import type postgres from "postgres";
import { ArchiveError } from "../errors.ts";

/**
 * Opens a fresh postgres.js client used for exactly one `COPY`, then ended. It must be created with
 * `max: 1`, e.g. `() => postgres(url, { max: 1 })`.
 *
 * Why a separate client (PLATFORM-NOTES "postgres.js COPY pitfall", porsager/postgres #499 and #917):
 * after a COPY stream with a consumer that applies backpressure, later queries on the same client hang
 * forever. Ending the COPY's own client afterwards is the workaround that was measured to work.
 */
export type OpenCopyClient = () => postgres.Sql;

/**
 * Session settings every archive COPY runs under, so the text forms are deterministic and exact:
 * UTC timestamps with `+00`, ISO dates, Postgres interval style, shortest-exact floats
 * (extra_float_digits > 0, Postgres 12+), hex bytea.
 */
const COPY_SESSION_SETTINGS: ReadonlyArray<readonly [string, string]> = [
  ["TimeZone", "UTC"],
  ["DateStyle", "ISO, MDY"],
  ["IntervalStyle", "postgres"],
  ["extra_float_digits", "3"],
  ["bytea_output", "hex"],
];

/**
 * Runs `work` on a client from `open()` after applying the COPY session settings, and always ends
 * the client (timeout 5 s) afterwards.
 * @throws ArchiveError when the client was not created with `max: 1` (settings would not reach the COPY's connection).
 */
export async function withCopyClient<T>(open: OpenCopyClient, work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = open();
  try {
    if (sql.options.max !== 1) {
      throw new ArchiveError(
        `the COPY client must be created with max: 1 (got max: ${sql.options.max}): session settings and the COPY must share one connection`,
      );
    }
    await applyArchiveSessionSettings(sql, false);
    return await work(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Applies the archive COPY session settings on `sql` (a single connection or a transaction):
 * session-wide, or `local` to the current transaction (`set_config(name, value, true)`).
 */
export async function applyArchiveSessionSettings(sql: postgres.Sql | postgres.TransactionSql, local: boolean): Promise<void> {
  for (const [name, value] of COPY_SESSION_SETTINGS) {
    await sql`select set_config(${name}, ${value}, ${local})`;
  }
}
