import { checkDatabaseUrl, loadConfig, openJobContext, type Config, type JobContext, type Logger } from "@partkeeper/core";

/** Options every database command takes. */
export interface ConnectionOptions {
  config: string;
  archive?: string;
  databaseUrl?: string;
  verbose?: boolean;
}

/** Exit codes: 0 success, 1 a job or parent failed, 2 bad input (usage, config, connection settings). */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

/** Logs as JSON lines on stderr with --verbose; silent otherwise (the summary goes to stdout). */
export function cliLogger(verbose: boolean): Logger {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    if (verbose) process.stderr.write(`${JSON.stringify({ level, message, ...fields })}\n`);
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/**
 * The shared base of the database commands (STYLE.md rule 16): loads and validates the config,
 * finds the connection, opens the job context, runs `body`, and closes everything in `finally`.
 */
export async function withJobContext(
  options: ConnectionOptions,
  body: (ctx: JobContext, config: Config) => Promise<number>,
): Promise<number> {
  const config = await loadConfig(options.config, {
    archiveLocation: options.archive,
    // tsx only for a .ts/.js config, loaded then: it costs about 60 ms of every start otherwise.
    importModule: async (url) => (await import("tsx/esm/api")).tsImport(url, import.meta.url),
  });
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL;
  if (!databaseUrl) {
    throw new UsageError("DATABASE_URL is not set: export DATABASE_URL=postgres://user:pass@host:5432/db or pass --database-url");
  }
  checkDatabaseUrl(databaseUrl, options.databaseUrl !== undefined ? "--database-url" : "DATABASE_URL");
  const { ctx, close } = await openJobContext({ databaseUrl, env: process.env, config, logger: cliLogger(Boolean(options.verbose)) });
  try {
    return await body(ctx, config);
  } finally {
    await close();
  }
}

/** Bad command-line input: exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * Runs a command action and exits with its code. Errors print as one line on stderr,
 * `partkeeper: <reason>` (multi-line reasons such as config issues are joined with "; ").
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let code: number;
    try {
      code = await fn(...args);
    } catch (error) {
      const e = error as Error;
      const [first = "", ...rest] = e.message.split("\n").map((l) => l.trim()).filter(Boolean);
      const reason = [first, rest.join("; ")].filter(Boolean).join(" ");
      process.stderr.write(`partkeeper: ${reason}\n`);
      code = e.name === "ConfigError" || e.name === "UsageError" ? EXIT.badInput : EXIT.failed;
    }
    process.exitCode = code;
  };
}
