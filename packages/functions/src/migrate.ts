import { z } from "zod";
import { formatMigrateSummary, MIGRATE_ACTIONS, runMigrations } from "@partkeeper/core";
import { lambdaDoor } from "./lambda-door.ts";

/**
 * The event of the migrate function. Scheduled (every 15 minutes): `{ "job": "migrate" }`, which
 * advances every configured migration. On demand, an operator acts on one migration, e.g.
 * `{ "job": "migrate", "action": "swap", "id": "events-by-month" }`.
 */
export const migrateEventSchema = z.strictObject({
  job: z.literal("migrate", 'must be "migrate" (this function runs only that job)').default("migrate"),
  /** What to do (default `run`: advance as far as the state and the deadline allow). */
  action: z.enum(MIGRATE_ACTIONS, `must be one of ${MIGRATE_ACTIONS.join(", ")}`).default("run"),
  /** The migration's id in the config; required for every action but `run`. */
  id: z.string().min(1).optional(),
  /** Plan only: the summary lists the steps and their SQL; nothing changes. */
  dryRun: z.boolean().default(false),
  /** finalize: before the grace period (`finalizeAfter`) is over; rollback is impossible afterwards. */
  force: z.boolean().default(false),
});

/** Scheduled and on demand: batched online migrations. Returns the MigrateSummary; fails when a migration failed. */
export const handler = lambdaDoor("migrate", migrateEventSchema, formatMigrateSummary, (ctx, event) =>
  runMigrations(ctx, { action: event.action, id: event.id, dryRun: event.dryRun, force: event.force }),
);
