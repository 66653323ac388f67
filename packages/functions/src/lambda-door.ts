import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics as PowertoolsMetrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import type { z } from "zod";
import { checkDatabaseUrl, ConfigError, DEADLINE_MARGIN_MS, formatIssues, openJobContext, parseConfig, type JobContext, type Logger as CoreLogger, type Metrics } from "@partkeeper/core";


/**
 * The settings a deployed function reads from its environment (set by infra/jobs.ts):
 * `PARTKEEPER_CONFIG` (the config JSON), `DATABASE_URL`, optional `PARTKEEPER_ARCHIVE`
 * (s3://bucket/prefix, overrides the config's archive.location), `POWERTOOLS_METRICS_NAMESPACE`
 * (default `partkeeper`). Throws ConfigError naming the variable that is missing or invalid.
 */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env) {
  const configText = env.PARTKEEPER_CONFIG;
  if (!configText) throw new ConfigError("PARTKEEPER_CONFIG is not set: it must hold the partkeeper config JSON");
  let raw: unknown;
  try {
    raw = JSON.parse(configText);
  } catch (cause) {
    throw new ConfigError(`PARTKEEPER_CONFIG is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const config = parseConfig(raw, "PARTKEEPER_CONFIG", env.PARTKEEPER_ARCHIVE || undefined);
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) throw new ConfigError("DATABASE_URL is not set: link the database secret to this function");
  checkDatabaseUrl(databaseUrl, "DATABASE_URL");
  return { config, databaseUrl };
}

/** Powertools Logger behind core's Logger interface (fields become top-level keys of the JSON line). */
function powertoolsLogger(logger: Logger): CoreLogger {
  const at = (level: "debug" | "info" | "warn" | "error") => (message: string, fields?: Record<string, unknown>) =>
    fields ? logger[level](message, fields) : logger[level](message);
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Powertools Metrics behind core's Metrics interface; per-parent values carry a `Parent` dimension. */
function powertoolsMetrics(metrics: PowertoolsMetrics): Metrics {
  const add = (name: string, value: number, parent?: string) => {
    if (parent === undefined) {
      metrics.addMetric(name, MetricUnit.Count, value);
      return;
    }
    const single = metrics.singleMetric();
    single.addDimension("Parent", parent);
    single.addMetric(name, MetricUnit.Count, value);
  };
  const measure = (name: string, value: number, unit: "Count" | "Milliseconds" | "Seconds", dimensions: Readonly<Record<string, string>> = {}) => {
    const single = metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, MetricUnit[unit], value);
  };
  return { count: add, gauge: add, measure };
}

/**
 * Builds a Lambda handler for one job: zod-parses the event (a bad event fails before any SQL,
 * naming the field), opens the job context, runs `body`, logs JSON through Powertools Logger (the
 * result, and as `text` the result in `format`, core's formatter the CLI prints too) and flushes EMF
 * metrics through Powertools Metrics (dimension `Job`). Throws when the result says something
 * failed, so the invocation fails and the Errors alarm and the DLQ see it.
 */
export function lambdaDoor<S extends z.ZodType, R extends { ok: boolean }>(
  job: string,
  eventSchema: S,
  format: (result: R) => string,
  body: (ctx: JobContext, event: z.output<S>) => Promise<R>,
) {
  return async (event: unknown, context: Context): Promise<R> => {
    const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "partkeeper", persistentKeys: { job } });
    // Powertools adds `service` (POWERTOOLS_SERVICE_NAME) as a dimension of every metric: the alarms
    // in infra/lib/alarm-specs.ts match on {service, Job}, so both sides read the same variable.
    const metrics = new PowertoolsMetrics({
      namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? "partkeeper",
      serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "partkeeper",
    });
    metrics.setDefaultDimensions({ Job: job });
    logger.addContext(context);
    try {
      // A scheduled target always sends an object; null, a string or an array is a mistake, not "run everything".
      if (event !== undefined && (event === null || typeof event !== "object" || Array.isArray(event))) {
        const got = event === null ? "null" : Array.isArray(event) ? "an array" : typeof event;
        throw new ConfigError(
          `invalid ${job} event: expected a JSON object such as {"job":"${job}"}, got ${got}: fix the payload of the invocation or the schedule's target input`,
        );
      }
      const parsed = eventSchema.safeParse(event ?? {});
      if (!parsed.success) throw new ConfigError(`invalid ${job} event:\n${formatIssues(parsed.error)}`);
      const { config, databaseUrl } = readEnvironment();
      const { ctx, close } = await openJobContext({
        databaseUrl,
        env: process.env,
        config,
        logger: powertoolsLogger(logger),
        metrics: powertoolsMetrics(metrics),
        deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
        // DuckDB's memory_limit is derived from the function's memory, not from what it detects.
        memoryMb: Number(context.memoryLimitInMB) || undefined,
      });
      let result: R;
      try {
        result = await body(ctx, parsed.data);
      } finally {
        await close();
      }
      logger.info(`${job} finished`, { ok: result.ok, summary: result, text: format(result) });
      // The job emitted JobSucceeded/JobFailed itself; a not-ok result still fails the invocation.
      if (!result.ok) throw Object.assign(new Error(`${job} failed for some parents; see the summary in the log`), { reported: true });
      return result;
    } catch (error) {
      logger.error(`${job} failed`, error as Error);
      if (!(error as { reported?: boolean }).reported) metrics.addMetric("JobFailed", MetricUnit.Count, 1);
      throw error;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
