import type { Sql } from "../db/client.ts";
import { schemaVersion } from "../db/migrate.ts";

/** `partkeeper.data_migration` and `data_migration_step` (migration 0004): batched online migrations. */

/**
 * States of a migration, in order (migrate/advance-migration.ts moves between them):
 * - `preparing`: the partitioned copy and the capture tables exist; capture is not installed yet;
 * - `backfilling`: the copy and its capture exist, the boundary is fixed; batches copy rows up to it;
 * - `backfilled`: every row up to the boundary is copied; capture keeps the copy current;
 * - `verified`: source and copy compared equal, range by range; ready to swap;
 * - `swapped`: the copy has the table's name, the source is `<table>_retired`, reverse capture keeps it current;
 * - `rolled-back`: swapped back; the copy is kept current again and swaps only by `migrate swap`;
 * - `finalized`: the retired table and every capture are gone. Nothing more to do.
 * - `recurring`: a recurring move (kind `move`); it has no other state and never finishes.
 */
export const MIGRATION_STATES = ["preparing", "backfilling", "backfilled", "verified", "swapped", "rolled-back", "finalized", "recurring"] as const;
export type MigrationState = (typeof MIGRATION_STATES)[number];

/** A row of `partkeeper.data_migration`. Keys are text arrays in primary-key column order. */
export interface MigrationRecord {
  readonly id: string;
  readonly kind: string;
  /** The structural part of the spec, compared on every run (a change is refused). */
  readonly spec: Record<string, unknown>;
  readonly state: MigrationState;
  readonly paused: boolean;
  /** Primary key of the last source row when capture started; null: the table was empty. */
  readonly boundary: ReadonlyArray<string> | null;
  /** Primary key of the last row backfilled; null: none yet. */
  readonly watermark: ReadonlyArray<string> | null;
  /** Rows the backfill copied so far (rows). */
  readonly rowsCopied: number;
  /** Rows up to the boundary, estimated from pg_class.reltuples at prepare (rows). */
  readonly rowsEstimate: number | null;
  /** Time spent in backfill batches so far, ms. */
  readonly backfillMs: number;
  /** Rows in the next batch (adapted to `batch.targetMs`). */
  readonly batchSize: number | null;
  /** Upper key of the last range verification compared equal; null: verification starts from the lowest key. */
  readonly verifyWatermark: ReadonlyArray<string> | null;
  readonly verifiedAt: Date | null;
  readonly swappedAt: Date | null;
  readonly finalizedAt: Date | null;
  /** A recurring move: when its last complete pass ended. */
  readonly passFinishedAt: Date | null;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

const COLUMNS = `id, kind, spec, state, paused, boundary, watermark, rows_copied::float8 as "rowsCopied",
  rows_estimate::float8 as "rowsEstimate", backfill_ms::float8 as "backfillMs", batch_size as "batchSize", verify_watermark as "verifyWatermark",
  verified_at as "verifiedAt", swapped_at as "swappedAt", finalized_at as "finalizedAt", pass_finished_at as "passFinishedAt", last_error as "lastError",
  created_at as "createdAt", updated_at as "updatedAt"`;

/** Every migration record, by id; empty when partkeeper's schema predates migration 0004 (a dry run does not migrate). */
export async function readMigrationRecords(sql: Sql): Promise<ReadonlyMap<string, MigrationRecord>> {
  if ((await schemaVersion(sql)) < 4) return new Map();
  const rows = await sql.unsafe<MigrationRecord[]>(`select ${COLUMNS} from partkeeper.data_migration`);
  return new Map(rows.map((r) => [r.id, r]));
}

/** The record of `id`, or null. */
export async function readMigrationRecord(sql: Sql, id: string): Promise<MigrationRecord | null> {
  if ((await schemaVersion(sql)) < 4) return null;
  const [row] = await sql.unsafe<MigrationRecord[]>(`select ${COLUMNS} from partkeeper.data_migration where id = $1`, [id]);
  return row ?? null;
}

/** What a migration starts with (inserted in prepare's transaction, in state `preparing`). */
export interface NewMigration {
  readonly id: string;
  readonly kind: string;
  readonly spec: Record<string, unknown>;
  readonly rowsEstimate: number | null;
  readonly batchSize: number;
  /** Default `preparing`. */
  readonly state?: MigrationState;
}

/** Inserts the record of a migration being prepared. */
export async function insertMigration(sql: Sql, m: NewMigration): Promise<void> {
  await sql`
    insert into partkeeper.data_migration (id, kind, spec, state, rows_estimate, batch_size)
    values (${m.id}, ${m.kind}, ${sql.json(m.spec as never)}, ${m.state ?? "preparing"}, ${m.rowsEstimate}, ${m.batchSize})`;
}

/** Fields a step may change, by record field name. */
export type MigrationUpdate = Partial<{
  state: MigrationState;
  paused: boolean;
  boundary: ReadonlyArray<string> | null;
  watermark: ReadonlyArray<string> | null;
  batchSize: number;
  verifyWatermark: ReadonlyArray<string> | null;
  verifiedAt: Date | null;
  swappedAt: Date | null;
  finalizedAt: Date | null;
  passFinishedAt: Date | null;
  lastError: string | null;
}>;

const UPDATE_COLUMNS: Record<keyof MigrationUpdate, string> = {
  state: "state",
  paused: "paused",
  boundary: "boundary",
  watermark: "watermark",
  batchSize: "batch_size",
  verifyWatermark: "verify_watermark",
  verifiedAt: "verified_at",
  swappedAt: "swapped_at",
  finalizedAt: "finalized_at",
  passFinishedAt: "pass_finished_at",
  lastError: "last_error",
};

/**
 * Updates record `id` (and stamps updated_at); `progress` adds to the backfill counters. Runs on
 * `sql`, so a step passes its transaction to save the watermark with the batch it belongs to.
 */
export async function updateMigration(
  sql: Sql,
  id: string,
  update: MigrationUpdate,
  progress?: { readonly rows: number; readonly ms: number },
): Promise<void> {
  const sets: string[] = ["updated_at = now()"];
  const values: unknown[] = [id];
  for (const [field, value] of Object.entries(update)) {
    values.push(value);
    sets.push(`${UPDATE_COLUMNS[field as keyof MigrationUpdate]} = $${values.length}`);
  }
  if (progress) {
    values.push(progress.rows, progress.ms);
    sets.push(`rows_copied = rows_copied + $${values.length - 1}`, `backfill_ms = backfill_ms + $${values.length}`);
  }
  await sql.unsafe(`update partkeeper.data_migration set ${sets.join(", ")} where id = $1`, values as never[]);
}

/** Appends a step to the migration's history. */
export async function recordMigrationStep(sql: Sql, id: string, step: string, detail: Record<string, unknown> = {}): Promise<void> {
  await sql`insert into partkeeper.data_migration_step (migration_id, step, detail) values (${id}, ${step}, ${sql.json(detail as never)})`;
}
