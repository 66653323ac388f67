import { z } from "zod";

/**
 * The event a scheduled job receives: exactly the object configured on its EventBridge Scheduler
 * target (no envelope), e.g. `{ "job": "maintain" }` or `{ "job": "archive", "dryRun": true }`.
 */
export function jobEventSchema<J extends string>(job: J) {
  return z.strictObject({
    job: z.literal(job, `must be "${job}" (this function runs only that job)`).default(job),
    /** Plan only: the summary lists every action and its SQL; nothing changes. */
    dryRun: z.boolean().default(false),
    /** Limit the run to these parents (default: every table in the config). */
    tables: z.array(z.strictObject({ schema: z.string().min(1).default("public"), table: z.string().min(1) })).min(1).optional(),
  });
}
