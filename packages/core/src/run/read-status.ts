import { readCatalog } from "../catalog/read-catalog.ts";
import { selectTables } from "../config/select-tables.ts";
import type { JobContext } from "../context.ts";
import { displayName, sameName, type QualifiedName } from "../identifier.ts";
import { checkManageable } from "../plan/check-manageable.ts";
import { readUnfinishedArchives } from "../records/archives.ts";
import { readRecentJobRuns, type JobRunStatus } from "../records/job-runs.ts";
import { defaultPartitionRows } from "../catalog/default-partition-rows.ts";
import { partitionsAhead } from "./partitions-ahead.ts";

export interface ParentStatus {
  readonly parent: QualifiedName;
  /** Null when the parent is fine; else why it cannot be managed (missing, not partitioned, ...). */
  readonly problem: string | null;
  readonly partitions: number;
  /** pg_total_relation_size summed over partitions, bytes. */
  readonly bytes: number;
  /** Range partitions wholly ahead of the current slot; null for list and hash. */
  readonly partitionsAhead: number | null;
  readonly defaultPartitionRows: number | null;
  /** Archives started and not finished: `<partition> (<state>)`. */
  readonly unfinishedArchives: ReadonlyArray<string>;
}

export interface StatusReport {
  readonly parents: ReadonlyArray<ParentStatus>;
  /** The 10 most recent runs, newest first (empty before the first run). */
  readonly recentRuns: ReadonlyArray<JobRunStatus>;
}

/**
 * Read-only health of every configured parent (or only those in `only`) and the latest job runs; changes nothing.
 * @throws ConfigError when `only` names a table that is not in the config.
 */
export async function readStatus(ctx: JobContext, only?: ReadonlyArray<QualifiedName>): Promise<StatusReport> {
  const now = ctx.clock();
  const policies = selectTables(ctx.config, only);
  const requests = policies.map((t) => ({ name: t.parent, wantMaxKey: t.strategy === "range-integer" }));
  const snapshot = await readCatalog(ctx.sql, requests);
  const unfinished = await readUnfinishedArchives(ctx.sql);
  const parents: ParentStatus[] = [];
  for (const policy of policies) {
    const name = policy.parent;
    const info = snapshot.parents.find((p) => sameName(p.parent, name));
    const unfinishedArchives = unfinished
      .filter((a) => sameName(a.parent, name))
      .map((a) => `${a.partition.name} (${a.state})`);
    let problem: string | null = info ? null : `${displayName(name)} does not exist or is not partitioned`;
    if (info) {
      try {
        checkManageable(policy, info);
      } catch (error) {
        problem = (error as Error).message;
      }
    }
    parents.push({
      parent: name,
      problem,
      partitions: info?.partitions.length ?? 0,
      bytes: info?.partitions.reduce((sum, p) => sum + p.bytes, 0) ?? 0,
      partitionsAhead: info && !problem ? partitionsAhead(policy, info, [], now) : null,
      defaultPartitionRows: info ? await defaultPartitionRows(ctx.sql, info, []) : null,
      unfinishedArchives,
    });
  }
  const recentRuns = await readRecentJobRuns(ctx.sql, 10);
  return { parents, recentRuns };
}
