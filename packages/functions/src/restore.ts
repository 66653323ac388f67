import { z } from "zod";
import { formatRestoreResult, qualifiedName, RESTORE_MODES, restorePartition } from "@partkeeper/core";
import { lambdaDoor } from "./lambda-door.ts";

/**
 * The event of the on-demand restore function (invoked by an operator, see docs/restore.md), e.g.
 * `{ "job": "restore", "parent": { "schema": "public", "table": "workflow_events" },
 *    "partition": "workflow_events_p2025_01", "mode": "attach" }`.
 */
export const restoreEventSchema = z.strictObject({
  job: z.literal("restore", 'must be "restore" (this function runs only that job)').default("restore"),
  /** The parent the partition was archived from. */
  parent: z.strictObject({ schema: z.string().min(1).default("public"), table: z.string().min(1) }),
  /** The archived partition's name, in the parent's schema. */
  partition: z.string().min(1),
  /** `side-table` (default): a new, unattached table; `attach`: back under the parent with its bounds. */
  mode: z.enum(RESTORE_MODES, `must be one of ${RESTORE_MODES.join(", ")}`).default("side-table"),
  /** side-table mode: the new table's name (default `<partition>_restored`). */
  target: z.string().min(1).optional(),
  /** Plan only: the result lists the SQL; nothing changes. */
  dryRun: z.boolean().default(false),
});

/** On demand: restores one archived partition from its Parquet archive. Returns the RestoreResult. */
export const handler = lambdaDoor("restore", restoreEventSchema, formatRestoreResult, (ctx, event) =>
  restorePartition(ctx, {
    parent: qualifiedName(event.parent.schema, event.parent.table),
    partition: event.partition,
    mode: event.mode,
    ...(event.target !== undefined ? { target: event.target } : {}),
    dryRun: event.dryRun,
  }),
);
