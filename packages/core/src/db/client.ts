import postgres from "postgres";

export type Sql = postgres.Sql;

export interface ClientOptions {
  /** Pool size. Default 4: partkeeper runs one parent at a time plus a lock connection. */
  readonly max?: number;
}

/**
 * A postgres.js client with the session settings partkeeper relies on: TimeZone UTC (bounds
 * and exports are rendered in UTC), ISO dates, and an application_name visible in pg_stat_activity.
 */
export function createClient(databaseUrl: string, options: ClientOptions = {}): Sql {
  return postgres(databaseUrl, {
    max: options.max ?? 4,
    onnotice: () => {},
    connect_timeout: 10,
    connection: { TimeZone: "UTC", DateStyle: "ISO, MDY", application_name: "partkeeper" },
  });
}
