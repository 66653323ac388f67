import type { Sql } from "../db/client.ts";
import type { DdlStep } from "../db/ddl-executor.ts";
import type { MigrationRecord } from "../records/data-migrations.ts";
import type { CaptureDirection } from "./capture.ts";
import type { VerifyResult } from "./verify.ts";

/**
 * What a kind of migration supplies to the engine (advance-migration.ts), which owns the states,
 * the records, the deadline and the progress: the SQL of each step and how it batches, drains and
 * verifies. `partition-table/` and `transform/` implement it. Methods that need what prepare fixed
 * read it from the record (`record.spec`), never from tables renamed since.
 */
export interface MigrationKind {
  /** The part of the spec fixed at prepare; a config that changes it is refused. */
  readonly structural: Readonly<Record<string, unknown>>;
  /** Reads and checks the sources and plans prepare; writes nothing. @throws MigrationError or UnmanageableTableError naming the reason. */
  prepare(sql: Sql, now: Date): Promise<PreparedMigration>;
  /** Steps that must run after prepare and before capture starts (e.g. the targets' partitions); each safe to repeat. */
  beforeCapture(sql: Sql, record: MigrationRecord, now: Date): Promise<DdlStep[]>;
  /** Installs the forward capture; its transaction then reads `boundarySql`. */
  captureStep(record: MigrationRecord): DdlStep;
  /** One row, `boundary` (text[] of the last driving key, or null when there is none). */
  boundarySql(record: MigrationRecord): string;
  /** One backfill batch of at most `size` driving rows after `record.watermark` up to the boundary, in transaction `tx`. `first`: the run's first batch. */
  batch(tx: Sql, record: MigrationRecord, size: number, first: boolean): Promise<{ rows: number; last: string[] | null }>;
  /** SQL comment lines saying what a backfill batch does (plan). */
  batchPlan(record: MigrationRecord | null, prepared: PreparedMigration | null): string[];
  /** Applies at most `limit` captured changes of `direction` in one transaction; returns how many. */
  drain(sql: Sql, record: MigrationRecord, direction: CaptureDirection, limit: number): Promise<number>;
  /** Captured changes of `direction` not applied yet. */
  pendingSql(record: MigrationRecord, direction: CaptureDirection): string;
  /** Compares sources and targets from `from` until done or the deadline (epoch ms). */
  verify(sql: Sql, record: MigrationRecord, from: ReadonlyArray<string> | null, deadline: number): Promise<VerifyResult>;
  /** The error text of a verification that found differences. */
  differenceMessage(record: MigrationRecord, result: VerifyResult): string;
  /** The swap (cutover), after reading and checking what it needs. @throws MigrationError when it cannot swap. */
  swapStep(sql: Sql, record: MigrationRecord): Promise<DdlStep>;
  /** The rollback. @throws MigrationError when the kind cannot roll back this migration. */
  rollbackStep(record: MigrationRecord): DdlStep;
  finalizeStep(record: MigrationRecord): DdlStep;
  /** Whether a swapped migration keeps its old tables current (reverse capture). */
  hasReverse(record: MigrationRecord): boolean;
  /** Words for messages: what the swap did and what rollback does. */
  readonly words: { readonly swapped: string; readonly rolledBack: string; readonly finalized: string };
}

/** What prepare found and will do. */
export interface PreparedMigration {
  readonly step: DdlStep;
  /** Kept in the record's spec next to `structural` (what later steps need: names, keys, columns). */
  readonly layout: Readonly<Record<string, unknown>>;
  /** Driving rows to backfill, estimated (rows); null when unknown. */
  readonly rowsEstimate: number | null;
  /** Kept in the prepare step's history. */
  readonly detail: Readonly<Record<string, unknown>>;
}
