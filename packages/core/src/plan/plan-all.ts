import type { CatalogSnapshot } from "../catalog/types.ts";
import type { Config } from "../config/schema.ts";
import { UnmanageableTableError } from "../errors.ts";
import { displayName, sameName, type QualifiedName } from "../identifier.ts";
import type { ArchiveRecord } from "../records/archives.ts";
import type { Action } from "./actions.ts";
import { checkManageable } from "./check-manageable.ts";
import { planExpiredPartitions } from "./plan-expired-partitions.ts";
import { planFuturePartitions } from "./plan-future-partitions.ts";

/** The plan for one configured parent (STYLE.md rule 11): its actions, or why it has none. */
export interface ParentPlan {
  readonly parent: QualifiedName;
  readonly actions: ReadonlyArray<Action>;
  /** Why this parent cannot be planned (usually UnmanageableTableError); then `actions` is empty. */
  readonly error: Error | null;
  /** Set when the table is not partitioned yet and a migration of the config converts it: nothing to plan until its swap. */
  readonly waitingFor?: string;
}

/** What the planner reads of partkeeper's own records. */
export interface PlanRecords {
  /** Archives a previous run started and did not finish (any parent; records/archives.ts). */
  readonly unfinishedArchives: ReadonlyArray<ArchiveRecord>;
  /** Ids of finalized migrations: a transform's target is archived only once its migration is finalized. */
  readonly finalizedMigrations: ReadonlySet<string>;
}

/** Which parts of the plan to compute. */
export interface PlanWhich {
  /** Missing partitions: current, premake, gaps, list values, hash remainders, default. */
  readonly future: boolean;
  /** Expired partitions and unfinished archives. */
  readonly expired: boolean;
}

/**
 * Plans every table in `config` from the catalog snapshot and partkeeper's records, one frozen
 * ParentPlan per table in config order. Pure: no I/O.
 *
 * A table missing from the snapshot, a table that is not partitioned and a parent failing
 * checkManageable get an UnmanageableTableError and no actions; an error planning one parent
 * never stops the others. Otherwise the actions are the future ones (planFuturePartitions) then
 * the expired ones (planExpiredPartitions), each as selected by `which`; a transform migration's
 * target waits for its migration: `waitingFor` until prepare creates it, no expired actions until it
 * is finalized. checkManageable runs here,
 * once per parent per plan; the two planners take the checked parent and do not check it again.
 *
 * @param now the clock's current instant (UTC).
 */
export function planAll(
  config: Config,
  snapshot: CatalogSnapshot,
  records: PlanRecords,
  now: Date,
  which: PlanWhich,
): ReadonlyArray<ParentPlan> {
  return Object.freeze(
    config.tables.map((policy): ParentPlan => {
      const name = policy.parent;
      try {
        const parent = snapshot.parents.find((p) => sameName(p.parent, name));
        // A transform's target: its prepare creates it, and until it is finalized a rollback replays
        // the target into the old tables, so nothing of it may be archived and dropped before then.
        const creator = config.migrations.find((m) => m.kind === "transform" && m.targets.some((t) => sameName(t.table, name)));
        if (!parent && creator && !snapshot.notPartitioned.some((n) => sameName(n, name))) {
          const waitingFor = `does not exist yet: migration ${creator.id} creates it (partkeeper migrate status)`;
          return Object.freeze({ parent: name, actions: Object.freeze([]), error: null, waitingFor });
        }
        if (!parent) {
          if (snapshot.notPartitioned.some((n) => sameName(n, name))) {
            const migration = config.migrations.find((m) => m.kind === "partition-table" && sameName(m.table, name));
            if (migration) {
              const waitingFor = `not partitioned yet: migration ${migration.id} converts it (partkeeper migrate status)`;
              return Object.freeze({ parent: name, actions: Object.freeze([]), error: null, waitingFor });
            }
            throw new UnmanageableTableError(
              `${displayName(name)} is not partitioned: convert it with a migration of kind partition-table (docs/migrate.md) or remove it from the config`,
            );
          }
          throw new UnmanageableTableError(
            `${displayName(name)} does not exist: create it as a partitioned table (CREATE TABLE ... PARTITION BY ...) or fix schema/table in the config`,
          );
        }
        checkManageable(policy, parent);
        const actions: Action[] = [];
        if (which.future) actions.push(...planFuturePartitions(policy, parent, now));
        const held = creator !== undefined && !records.finalizedMigrations.has(creator.id);
        if (which.expired && !held) actions.push(...planExpiredPartitions(policy, parent, records.unfinishedArchives, now));
        return Object.freeze({ parent: name, actions: Object.freeze(actions), error: null });
      } catch (cause) {
        const error = cause instanceof Error ? cause : new Error(String(cause));
        return Object.freeze({ parent: name, actions: Object.freeze([]), error });
      }
    }),
  );
}
