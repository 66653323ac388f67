/**
 * The deploy settings of this stage: environment variables read when `sst deploy` runs
 * (docs/deploy.md, "Settings"). Invalid values stop the deploy before anything is created.
 */
import { JOBS } from "../packages/core/src/jobs.ts";
import { readSettings } from "./lib/settings.ts";

export const settings = readSettings(process.env, JOBS, $app.stage);
