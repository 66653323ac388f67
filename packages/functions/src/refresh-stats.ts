import { z } from "zod";
import { formatRefreshStatsSummary, runRefreshStats } from "@partkeeper/core";
import { lambdaDoor } from "./lambda-door.ts";

/** The event of the refresh-stats function: scheduled daily as `{ "job": "refresh-stats" }`. */
export const refreshStatsEventSchema = z.strictObject({
  job: z.literal("refresh-stats", 'must be "refresh-stats" (this function runs only that job)').default("refresh-stats"),
  /** Plan only: the summary lists the views and relations it would refresh and analyze; nothing changes. */
  dryRun: z.boolean().default(false),
});

/** Scheduled daily: refreshes materialized views and analyzes parents and partitions (docs/stats.md). Fails when a refresh or analyze failed. */
export const handler = lambdaDoor("refresh-stats", refreshStatsEventSchema, formatRefreshStatsSummary, (ctx, event) => runRefreshStats(ctx, { dryRun: event.dryRun }));
