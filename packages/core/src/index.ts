/** The public API of @partkeeper/core: the only module the CLI and the Lambda handlers import. */
export { parseConfig, loadConfig, formatIssues } from "./config/load-config.ts";
export { configJsonSchema } from "./config/json-schema.ts";
export type { Config, ConfigInput, TablePolicy } from "./config/schema.ts";
export type { JobContext, Logger, Metrics } from "./context.ts";
export { silentLogger, noMetrics } from "./context.ts";
export { createClient, type Sql } from "./db/client.ts";
export { checkDatabaseUrl } from "./db/check-database-url.ts";
export { ConfigError, UnmanageableTableError, LockTimeoutError, ArchiveError, InsufficientPrivilegeError } from "./errors.ts";
export { qualifiedName, displayName, type QualifiedName } from "./identifier.ts";
export { JOBS, LIFECYCLE_JOBS, isJobName, jobDefinition, type JobDefinition, type JobName } from "./jobs.ts";
export { runJob, type JobSelection, type JobSummary, type ParentResult, type ActionOutcome, type RunJobOptions } from "./run/run-job.ts";
export { openJobContext, type OpenJobContextOptions } from "./run/open-job-context.ts";
export { readStatus, type StatusReport, type ParentStatus } from "./run/read-status.ts";
export type { JobRunStatus } from "./records/job-runs.ts";
export { formatJobSummary, formatJobFailure, formatRestoreResult } from "./run/format-summary.ts";
export { releaserStack, type Releaser, type Releasers } from "./releasers.ts";
export type { Action } from "./plan/actions.ts";
export { restorePartition, RESTORE_MODES, type RestoreMode, type RestoreOptions, type RestoreResult } from "./restore/restore-partition.ts";
