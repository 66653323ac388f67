/**
 * One Lambda function per job of the catalog (packages/core/src/jobs.ts), and one sst.aws.CronV2
 * per scheduled job. Every function: reserved concurrency 1 when scheduled, a bounded number of
 * async retries, failed events to the dead-letter queue, only the S3 actions its `archiveAccess`
 * needs, and @duckdb/node-api installed (not bundled) for the chosen architecture.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { JOBS } from "../packages/core/src/jobs.ts";
import { archiveStatements, deadLetterStatement, toFunctionPermissions } from "./lib/access.ts";
import { archiveUrl, prepareConfig } from "./lib/deploy-config.ts";
import { assertEnvironmentFits, jobSpecs, nativeInstall, SCHEDULER_RETRIES } from "./lib/job-specs.ts";
import { databaseUrl, functionVpc } from "./database.ts";
import { settings } from "./settings.ts";
import { archiveBucket } from "./storage.ts";

const lock = JSON.parse(readFileSync(path.join($cli.paths.root, "package-lock.json"), "utf8")) as Parameters<typeof nativeInstall>[0];
const install = nativeInstall(lock);

export const specs = jobSpecs(JOBS, settings, { name: $app.name, stage: $app.stage });

/** Failed async invocations (after retries) and events Scheduler could not deliver. Kept 14 days. */
export const deadLetterQueue = new sst.aws.Queue("JobDeadLetterQueue", {
  transform: { queue: { messageRetentionSeconds: 14 * 24 * 3600, sqsManagedSseEnabled: true } },
});

const archive = archiveBucket.name.apply((name) => archiveUrl(name, settings.archivePrefix));

/** The partkeeper config (JSON), validated here with core's schema so a bad config fails the deploy. */
export const config = $util
  .all([new sst.Secret("PartkeeperConfig").value, archive])
  .apply(([text, location]) => prepareConfig(text, location));

export const functions: Record<string, sst.aws.Function> = {};

for (const spec of specs) {
  const environment = $util.all([config, databaseUrl, archive]).apply(([prepared, url, location]) => {
    const env = {
      PARTKEEPER_CONFIG: prepared.json,
      DATABASE_URL: url,
      PARTKEEPER_ARCHIVE: location,
      POWERTOOLS_SERVICE_NAME: settings.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: settings.metricsNamespace,
    };
    assertEnvironmentFits(spec.functionName, env);
    return env;
  });

  const permissions = $util.all([archiveBucket.arn, deadLetterQueue.arn]).apply(([bucketArn, queueArn]) =>
    toFunctionPermissions([
      ...archiveStatements(spec.archiveAccess, { bucketArn, prefix: settings.archivePrefix, kmsKeyArn: settings.kmsKeyArn }),
      deadLetterStatement(queueArn),
    ]),
  );

  const fn = new sst.aws.Function(`${spec.resourceName}Function`, {
    name: spec.functionName,
    description: `partkeeper ${spec.name} job`,
    handler: spec.handler,
    runtime: "nodejs22.x",
    architecture: settings.architecture,
    timeout: `${spec.timeoutSeconds} seconds`,
    memory: `${spec.memoryMb} MB`,
    storage: `${spec.ephemeralStorageMb} MB`,
    environment,
    permissions,
    concurrency: spec.reservedConcurrency === null ? undefined : { reserved: spec.reservedConcurrency },
    retries: spec.asyncRetries,
    vpc: functionVpc,
    // Jobs run against the real database even under `sst dev`; no live proxy.
    dev: false,
    // Text format: Powertools already writes one JSON object per line, and CloudWatch extracts the EMF
    // metric documents from raw stdout lines.
    logging: { retention: "3 months", format: "text" },
    nodejs: {
      format: "esm",
      // postgres.js and the AWS SDK are bundled by esbuild; the DuckDB native binding cannot be, so
      // SST npm-installs it with --os=linux --cpu=<architecture> --libc=glibc into the bundle.
      install,
    },
    transform: {
      eventInvokeConfig: {
        maximumEventAgeInSeconds: spec.maxEventAgeSeconds,
        destinationConfig: { onFailure: { destination: deadLetterQueue.arn } },
      },
    },
  });
  functions[spec.name] = fn;

  if (spec.schedule !== null) {
    new sst.aws.CronV2(`${spec.resourceName}Schedule`, {
      function: fn,
      schedule: spec.schedule.schedule,
      timezone: spec.schedule.timeZone,
      event: spec.event,
      retries: SCHEDULER_RETRIES,
      dlq: deadLetterQueue.arn,
    });
  }
}
