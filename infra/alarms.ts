/**
 * CloudWatch alarms into one SNS topic (optionally e-mailed to PARTKEEPER_ALARM_EMAIL). The list
 * is infra/lib/alarm-specs.ts; what each alarm means and what to do is in docs/deploy.md.
 */
import { alarmSpecs, type AlarmSpec } from "./lib/alarm-specs.ts";
import { config, deadLetterQueue, functions, specs } from "./jobs.ts";
import { settings } from "./settings.ts";

export const alarmTopic = new sst.aws.SnsTopic("Alarms");

if (settings.alarmEmail !== null) {
  // AWS e-mails a confirmation link first; alarms reach the inbox only after it is clicked.
  new aws.sns.TopicSubscription("AlarmEmail", {
    topic: alarmTopic.arn,
    protocol: "email",
    endpoint: settings.alarmEmail,
  });
}

function dimensions(spec: AlarmSpec): $util.Input<Record<string, $util.Input<string>>> {
  switch (spec.target.kind) {
    case "function": {
      const fn = functions[spec.target.job];
      if (!fn) throw new Error(`alarm ${spec.key}: no function for job ${spec.target.job}`);
      return { FunctionName: fn.name };
    }
    case "dead-letter-queue":
      return { QueueName: deadLetterQueue.nodes.queue.name };
    case "job-metric":
      return { ...spec.target.dimensions };
    default: {
      const never: never = spec.target;
      throw new Error(`unknown alarm target ${JSON.stringify(never)}`);
    }
  }
}

export const alarms = alarmSpecs(specs, {
  prefix: `${$app.name}-${$app.stage}`,
  metricsNamespace: settings.metricsNamespace,
  serviceName: settings.serviceName,
}).map(
  (spec) =>
    new aws.cloudwatch.MetricAlarm(spec.key, {
      name: spec.name,
      alarmDescription: `${spec.description} Runbook: docs/deploy.md#${spec.runbook}`,
      namespace: spec.namespace,
      metricName: spec.metricName,
      dimensions: dimensions(spec),
      statistic: spec.statistic,
      period: spec.periodSeconds,
      evaluationPeriods: spec.evaluationPeriods,
      comparisonOperator: spec.comparisonOperator,
      threshold: spec.thresholdFrom === "min-premake" ? config.apply((c) => c.minPremake) : spec.threshold,
      treatMissingData: spec.treatMissingData,
      alarmActions: [alarmTopic.arn],
      okActions: [alarmTopic.arn],
    }),
);
