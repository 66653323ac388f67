/// <reference path="./.sst/platform/config.d.ts" />

/**
 * partkeeper on AWS: scheduled maintenance jobs, on-demand restore, archive bucket and alarms.
 * Deploy: docs/deploy.md. Settings are environment variables read at deploy time (infra/lib/settings.ts).
 */
export default $config({
  app(input) {
    const production = input?.stage === "production";
    return {
      name: "partkeeper",
      home: "aws",
      // The archive bucket holds the only copy of dropped partitions: keep production's on `sst remove`.
      removal: production ? "retain" : "remove",
      protect: production,
    };
  },
  async run() {
    const { archiveBucket } = await import("./infra/storage.ts");
    const { functions, deadLetterQueue } = await import("./infra/jobs.ts");
    const { alarmTopic } = await import("./infra/alarms.ts");
    return {
      archiveBucket: archiveBucket.name,
      deadLetterQueue: deadLetterQueue.url,
      alarmTopic: alarmTopic.arn,
      ...Object.fromEntries(Object.entries(functions).map(([job, fn]) => [`${job}Function`, fn.name])),
    };
  },
});
