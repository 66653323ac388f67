import { ConfigError } from "../errors.ts";

/**
 * Checks that `url` is a PostgreSQL connection URL the way postgres.js reads it
 * (`postgres[ql]://user:password@host[,host2...]:port/database?params`; postgres.js
 * `src/index.js` `parseUrl`), so a value such as `host=db user=app` or `db:5432/app` is reported
 * as bad input instead of failing as `Invalid URL` or connecting to localhost. The value itself is
 * never put in the message: it usually holds a password.
 *
 * @param source where the value came from, for the message: `DATABASE_URL`, `--database-url`.
 * @throws ConfigError `<source> <problem>: use postgres://user:password@host:5432/database ...`.
 */
export function checkDatabaseUrl(url: string, source: string): void {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  let problem: string | null = null;
  if (!scheme) {
    problem = "is not a URL";
  } else if (scheme !== "postgres" && scheme !== "postgresql") {
    problem = `has scheme ${scheme}://, not postgres:// or postgresql://`;
  } else {
    // postgres.js takes the first of several comma-separated hosts to parse the rest.
    const hosts = url.slice(url.indexOf("://") + 3).split(/[?/]/)[0]!;
    const hostList = hosts.slice(hosts.lastIndexOf("@") + 1);
    try {
      new URL(url.replace(hostList, hostList.split(",")[0]!));
    } catch {
      problem = "cannot be parsed as a URL";
    }
  }
  if (problem) {
    throw new ConfigError(
      `${source} ${problem}: use postgres://user:password@host:5432/database (percent-encode special characters in the user name and password)`,
    );
  }
}
