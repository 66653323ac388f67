import { formatJobSummary, qualifiedName, runJob } from "@partkeeper/core";
import { jobEventSchema } from "./job-event.ts";
import { lambdaDoor } from "./lambda-door.ts";

/** Scheduled daily: archives expired partitions to Parquet on S3, verifies, then drops. Event `{ "job": "archive" }`. */
export const handler = lambdaDoor("archive", jobEventSchema("archive"), formatJobSummary, (ctx, event) =>
  runJob(ctx, { job: "archive", dryRun: event.dryRun, only: event.tables?.map((t) => qualifiedName(t.schema, t.table)) }),
);
