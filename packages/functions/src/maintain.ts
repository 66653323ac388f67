import { formatJobSummary, qualifiedName, runJob } from "@partkeeper/core";
import { jobEventSchema } from "./job-event.ts";
import { lambdaDoor } from "./lambda-door.ts";

/** Scheduled hourly: creates future partitions (premake) and default partitions. Event `{ "job": "maintain" }`. */
export const handler = lambdaDoor("maintain", jobEventSchema("maintain"), formatJobSummary, (ctx, event) =>
  runJob(ctx, { job: "maintain", dryRun: event.dryRun, only: event.tables?.map((t) => qualifiedName(t.schema, t.table)) }),
);
