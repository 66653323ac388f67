import type { Sql } from "../db/client.ts";
import { schemaVersion } from "../db/migrate.ts";
import type { QualifiedName } from "../identifier.ts";

/** `partkeeper.restore` (migration 0002): one row per restore of an archive. */

/** Steps of a restore, each recorded after it completed (`loading` is recorded before the table is created). */
export const RESTORE_STATES = ["loading", "loaded", "attached"] as const;
export type RestoreState = (typeof RESTORE_STATES)[number];

export type RestoreMode = "attach" | "side-table";

/** A row of `partkeeper.restore` (migration 0002). */
export interface RestoreRecord {
  readonly id: number;
  readonly state: RestoreState;
}

export interface RestoreRecordKey {
  readonly parent: QualifiedName;
  readonly partition: QualifiedName;
  readonly mode: RestoreMode;
  readonly target: QualifiedName;
  readonly manifestKey: string;
  readonly rows: number;
}

/**
 * The newest record of a restore into `target` from `manifestKey` that has not reached its final step
 * (`loaded` for side tables, `attached` for attach), or null. Null too when partkeeper's schema is older
 * than migration 0002 (a dry run does not migrate).
 */
export async function findOpenRestore(sql: Sql, key: RestoreRecordKey): Promise<RestoreRecord | null> {
  if ((await schemaVersion(sql)) < 2) return null;
  const [row] = await sql<RestoreRecord[]>`
    select id::float8 as id, state from partkeeper.restore
    where target_schema = ${key.target.schema} and target_name = ${key.target.name}
      and manifest_key = ${key.manifestKey} and mode = ${key.mode}
      and state <> ${key.mode === "attach" ? "attached" : "loaded"}
    order by id desc limit 1`;
  return row ?? null;
}

/** Inserts a record in `state`. */
export async function insertRestore(sql: Sql, key: RestoreRecordKey, state: RestoreState): Promise<RestoreRecord> {
  const [row] = await sql<RestoreRecord[]>`
    insert into partkeeper.restore (parent_schema, parent_name, partition_schema, partition_name, mode,
                                    target_schema, target_name, manifest_key, rows, state)
    values (${key.parent.schema}, ${key.parent.name}, ${key.partition.schema}, ${key.partition.name}, ${key.mode},
            ${key.target.schema}, ${key.target.name}, ${key.manifestKey}, ${key.rows}, ${state})
    returning id::float8 as id, state`;
  return row!;
}

/** Moves record `id` to `state` (and stamps updated_at). */
export async function setRestoreState(sql: Sql, id: number, state: RestoreState): Promise<RestoreRecord> {
  await sql`update partkeeper.restore set state = ${state}, updated_at = now() where id = ${id}`;
  return { id, state };
}
