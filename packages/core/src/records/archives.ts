import type { Sql } from "../db/client.ts";
import { schemaVersion } from "../db/migrate.ts";
import { qualifiedName, type QualifiedName } from "../identifier.ts";

/**
 * `partkeeper.archive` (migrations 0001, 0003, 0008): one row per archive of a partition, moved through the
 * archive state machine (DESIGN rule 6), each state recorded after its step completed.
 */
export const ARCHIVE_STATES = ["intent", "detached", "exported", "verified", "dropped", "kept"] as const;
export type ArchiveState = (typeof ARCHIVE_STATES)[number];

/**
 * States after which no work remains. The partial unique index `archive_live_partition` (one live
 * archive per partition name) is defined over the same list.
 */
export const FINISHED_ARCHIVE_STATES = ["dropped", "kept"] as const satisfies ReadonlyArray<ArchiveState>;

/** States after which work remains: a later run resumes the archive there. */
export const UNFINISHED_ARCHIVE_STATES: ReadonlySet<ArchiveState> = new Set(
  ARCHIVE_STATES.filter((s) => !(FINISHED_ARCHIVE_STATES as ReadonlyArray<ArchiveState>).includes(s)),
);

/** An archive that a previous run started and did not finish, as the planner sees it. */
export interface ArchiveRecord {
  readonly id: number;
  readonly parent: QualifiedName;
  readonly partition: QualifiedName;
  readonly boundExpression: string;
  readonly state: ArchiveState;
}

/** The live row of a partition's archive, as the archive job moves it along. */
export interface LiveArchive {
  readonly id: number;
  readonly state: ArchiveState;
  /** Export attempt whose data object is current (archive-keys.ts `dataKey`). */
  readonly attempt: number;
  readonly objectKey: string | null;
  /** SHA-256 of the current attempt's exported file (lower-case hex), or null before its export. */
  readonly exportSha256: string | null;
  /**
   * Part plan and finished parts of an archive in several Parquet parts (migration 0008,
   * archive/archive-parts.ts `PartsPlan`), as stored; null for an archive of one object. Valid only
   * while its `attempt` is the record's.
   */
  readonly parts: unknown;
}

/** Fields recorded with a state; absent ones keep their value (`lastError` is cleared when absent). */
export interface ArchiveUpdate {
  readonly attempt?: number;
  readonly objectKey?: string;
  readonly exportSha256?: string;
  /** Set once verified: the manifest's key, rows, bytes and SHA-256. */
  readonly manifest?: { readonly key: string; readonly rows: number; readonly bytes: number; readonly sha256: string };
  readonly lastError?: string;
  /** The part plan with its finished parts (archive-parts.ts), stored as jsonb; null clears it. */
  readonly parts?: object | null;
}

/** Schema version that added `archive.parts`: a dry run on an older schema reads it as null. */
const PARTS_VERSION = 8;

const liveColumns = (sql: Sql, withParts = true) =>
  sql`id::float8 as id, state, attempt, object_key as "objectKey", export_sha256 as "exportSha256", ${withParts ? sql`parts` : sql`null::jsonb`} as parts`;
const finished = (sql: Sql) => sql`(select jsonb_array_elements_text(${sql.json([...FINISHED_ARCHIVE_STATES])}))`;

/** Archives a previous run started and did not finish, by id (empty before partkeeper's schema exists). */
export async function readUnfinishedArchives(sql: Sql): Promise<ArchiveRecord[]> {
  if ((await schemaVersion(sql)) < 1) return [];
  const rows = await sql`
    select id::float8 as id, parent_schema, parent_name, partition_schema, partition_name, bound_expression, state
    from partkeeper.archive where state not in ${finished(sql)} order by id`;
  return rows.map((r) =>
    Object.freeze({
      id: r.id as number,
      parent: qualifiedName(r.parent_schema, r.parent_name),
      partition: qualifiedName(r.partition_schema, r.partition_name),
      boundExpression: r.bound_expression as string,
      state: r.state as ArchiveState,
    }),
  );
}

/** The live archive of `partition`, created in state `intent` when there is none. */
export async function recordArchiveIntent(
  sql: Sql,
  archive: { readonly parent: QualifiedName; readonly partition: QualifiedName; readonly boundExpression: string },
  jobRunId: number | null,
): Promise<LiveArchive | null> {
  const { parent, partition } = archive;
  // The conflict target's predicate must match archive_live_partition's text for Postgres to infer it.
  const [created] = await sql<LiveArchive[]>`
    insert into partkeeper.archive (parent_schema, parent_name, partition_schema, partition_name, bound_expression, state, job_run_id)
    values (${parent.schema}, ${parent.name}, ${partition.schema}, ${partition.name}, ${archive.boundExpression}, 'intent', ${jobRunId})
    on conflict (partition_schema, partition_name) where state not in ('dropped', 'kept') do nothing
    returning ${liveColumns(sql)}`;
  return created ?? (await selectLiveArchive(sql, partition));
}

/**
 * The live archive of `partition` without creating one (a dry run: null when there is none, or
 * before partkeeper's schema exists).
 */
export async function findLiveArchive(sql: Sql, partition: QualifiedName): Promise<LiveArchive | null> {
  const version = await schemaVersion(sql);
  return version < 3 ? null : selectLiveArchive(sql, partition, version >= PARTS_VERSION);
}

async function selectLiveArchive(sql: Sql, partition: QualifiedName, withParts = true): Promise<LiveArchive | null> {
  const [row] = await sql<LiveArchive[]>`
    select ${liveColumns(sql, withParts)} from partkeeper.archive
    where partition_schema = ${partition.schema} and partition_name = ${partition.name} and state not in ${finished(sql)}`;
  return row ?? null;
}

/** Moves archive `id` to `state` with `fields`, stamping `updated_at` (and `verified_at` on the move to `verified`). */
export async function updateArchive(sql: Sql, id: number, state: ArchiveState, fields: ArchiveUpdate = {}): Promise<void> {
  const m = fields.manifest;
  await sql`
    update partkeeper.archive set state = ${state}, updated_at = now(),
      attempt = coalesce(${fields.attempt ?? null}::int, attempt),
      object_key = coalesce(${fields.objectKey ?? null}, object_key),
      export_sha256 = coalesce(${fields.exportSha256 ?? null}, export_sha256),
      manifest_key = coalesce(${m?.key ?? null}, manifest_key),
      rows = coalesce(${m?.rows ?? null}::bigint, rows),
      bytes = coalesce(${m?.bytes ?? null}::bigint, bytes),
      sha256 = coalesce(${m?.sha256 ?? null}, sha256),
      verified_at = case when ${state} = 'verified' then now() else verified_at end,
      parts = ${fields.parts === undefined ? sql`parts` : fields.parts === null ? sql`null` : sql`${sql.json(fields.parts as never)}::jsonb`},
      last_error = ${fields.lastError ?? null}
    where id = ${id}`;
}
