import { rm } from "node:fs/promises";
import path from "node:path";
import type { ArchiveState, ColumnInfo, ParentInfo } from "../catalog/types.ts";
import type { JobContext } from "../context.ts";
import type { DdlExecutor } from "../db/ddl-executor.ts";
import { quoteQualified } from "../db/sql-text.ts";
import { ArchiveError, ArchiveVerificationError } from "../errors.ts";
import { displayName, type QualifiedName } from "../identifier.ts";
import { detachPartition } from "../partitions/detach-partition.ts";
import { dropTableSql } from "../partitions/partition-ddl.ts";
import type { ArchivePartitionAction } from "../plan/actions.ts";
import { PARTKEEPER_VERSION } from "../version.ts";
import { locateArchive } from "./archive-keys.ts";
import { exportToParquet } from "./export-parquet.ts";
import { parseManifest, type Manifest } from "./manifest.ts";
import { mapColumn } from "./parquet-types.ts";
import { summarizeRelation } from "./partition-summary.ts";
import { readParquetSummary, sha256File } from "./read-parquet.ts";

/** What archiving one partition produced. */
export interface ArchiveOutcome {
  readonly archiveId: number;
  readonly rows: number;
  /** Parquet bytes stored. */
  readonly bytes: number;
  /** `pg_total_relation_size` of the partition before it was dropped, bytes. */
  readonly partitionBytes: number;
  readonly objectKey: string;
  /** `s3://bucket/prefix/<objectKey>` */
  readonly objectUrl: string;
  readonly manifestKey: string;
  readonly finalState: "dropped" | "kept";
}

interface ArchiveRow {
  id: number;
  state: ArchiveState;
}

/**
 * Archives one expired partition, resuming wherever a previous run stopped (DESIGN rules 6, 7):
 * record intent -> detach -> export to Parquet and upload (written once) -> verify by downloading
 * the stored object and comparing rows and key range with the table -> write the manifest (the
 * commit marker) -> record verified -> drop (or keep, `keepTable`). Each step is recorded in
 * `partkeeper.archive` after it completes, so a crash after any step is finished by the next run;
 * nothing is dropped before `verified` is recorded.
 *
 * Before detaching anything the store is probed, so an unreachable S3 endpoint leaves the
 * partition attached. Returns null in a dry run (the steps are only recorded in `exec.log`).
 * @throws ArchiveError (store unreachable, upload failed), ArchiveVerificationError (read-back
 *   differs: the table is kept), LockTimeoutError (detach or drop could not get its lock).
 */
export async function archivePartition(
  ctx: JobContext,
  exec: DdlExecutor,
  parent: ParentInfo,
  action: ArchivePartitionAction,
  jobRunId: number | null,
): Promise<ArchiveOutcome | null> {
  const { store, keys, url } = locateArchive(ctx, action.parent, action.partition, "archive");

  if (exec.dryRun) {
    await detachPartition(exec, parent, action.partition);
    await exec.run({
      description: `export ${displayName(action.partition)}`,
      statements: [`-- export to ${url(keys.data)} (Parquet, ZSTD), verify by reading it back, then write ${url(keys.manifest)}`],
      transaction: false,
    });
    if (!action.keepTable) await exec.run({ description: `drop ${displayName(action.partition)}`, statements: [dropTableSql(action.partition)], transaction: true });
    return null;
  }

  await store.head(keys.manifest); // fail here, with the partition still attached, if S3 is unreachable
  const key = parent.keyColumns[0] ?? null;
  const partitionBytes = await relationBytes(ctx, action.partition);
  let record = await recordIntent(ctx, action, jobRunId);
  const setState = async (
    state: ArchiveState,
    fields: { objectKey?: string; manifestKey?: string; rows?: number; bytes?: number; sha256?: string } = {},
  ) => {
    await ctx.sql`
      update partkeeper.archive set state = ${state}, updated_at = now(),
        object_key = coalesce(${fields.objectKey ?? null}, object_key),
        manifest_key = coalesce(${fields.manifestKey ?? null}, manifest_key),
        rows = coalesce(${fields.rows ?? null}::bigint, rows),
        bytes = coalesce(${fields.bytes ?? null}::bigint, bytes),
        sha256 = coalesce(${fields.sha256 ?? null}, sha256)
      where id = ${record.id}`;
    record = { ...record, state };
    ctx.logger.info("archive step recorded", { partition: displayName(action.partition), state, archiveId: record.id });
  };

  if (record.state === "intent") {
    await detachPartition(exec, parent, action.partition);
    await setState("detached");
  } else if (await detachPartition(exec, parent, action.partition)) {
    // Attached again since an earlier run (a restore, an operator): it may hold rows written since
    // its export, so it is exported and verified again before anything is dropped.
    await setState("detached");
  }
  if (record.state === "detached") {
    const exported = await exportToParquet({
      openCopyClient: ctx.openCopyClient,
      relation: action.partition,
      columns: parent.columns,
      workDir: ctx.workDir,
    });
    try {
      await store.putFile(keys.data, exported.file, {
        contentType: "application/vnd.apache.parquet",
        metadata: { sha256: exported.sha256, rows: String(exported.rows) },
      });
    } finally {
      await rm(exported.file, { force: true });
    }
    await setState("exported", { objectKey: keys.data });
  }
  let manifest: Manifest | null = null;
  if (record.state === "exported") {
    manifest = await verifyAndCommit(ctx, parent, action, keys, key, url);
    await setState("verified", { manifestKey: keys.manifest, rows: manifest.rows, bytes: manifest.bytes, sha256: manifest.sha256 });
  }
  if (record.state === "verified") {
    if (action.keepTable) {
      await setState("kept");
    } else {
      await exec.run({ description: `drop archived partition ${displayName(action.partition)}`, statements: [dropTableSql(action.partition)], transaction: true });
      await setState("dropped");
    }
  }
  manifest ??= parseManifest(await store.getJson(keys.manifest), url(keys.manifest));
  return {
    archiveId: record.id,
    rows: manifest.rows,
    bytes: manifest.bytes,
    partitionBytes,
    objectKey: keys.data,
    objectUrl: url(keys.data),
    manifestKey: keys.manifest,
    finalState: record.state === "kept" ? "kept" : "dropped",
  };
}

/**
 * Downloads the stored Parquet object, checks it against the (detached, not yet dropped) table,
 * and writes the manifest once. An existing manifest (a crash after writing it) must describe the
 * same object, else ArchiveVerificationError.
 */
async function verifyAndCommit(
  ctx: JobContext,
  parent: ParentInfo,
  action: ArchivePartitionAction,
  keys: { data: string; manifest: string },
  key: ColumnInfo | null,
  url: (key: string) => string,
): Promise<Manifest> {
  const store = ctx.store!;
  const file = path.join(ctx.workDir, `verify-${process.pid}-${Date.now()}.parquet`);
  try {
    const { bytes } = await store.getToFile(keys.data, file);
    const [sha256, stored, table] = await Promise.all([
      sha256File(file),
      readParquetSummary(file, key?.name ?? null, ctx.workDir),
      summarizeRelation(ctx.sql, action.partition, key),
    ]);
    const mismatch = (["rows", "keyMin", "keyMax"] as const).filter((f) => String(stored[f]) !== String(table[f]));
    if (mismatch.length) {
      throw new ArchiveVerificationError(
        `archive verification failed for ${displayName(action.partition)}: ${mismatch
          .map((f) => `${f} ${String(stored[f])} in ${url(keys.data)} vs ${String(table[f])} in the table`)
          .join(", ")}; the table is kept (detached); inspect the object, remove it, and run again`,
      );
    }
    const manifest: Manifest = {
      formatVersion: 1,
      parent: { schema: action.parent.schema, name: action.parent.name },
      partition: { schema: action.partition.schema, name: action.partition.name },
      boundExpression: action.boundExpression,
      columns: parent.columns.map((c) => {
        const m = mapColumn(c);
        return { name: m.name, pgType: m.pgType, parquetType: m.parquetType };
      }),
      rows: table.rows,
      bytes,
      sha256,
      objects: [{ key: keys.data, rows: table.rows, bytes, sha256 }],
      partkeeperVersion: PARTKEEPER_VERSION,
      createdAt: ctx.clock().toISOString(),
      keyColumn: key?.name ?? null,
      keyMin: table.keyMin,
      keyMax: table.keyMax,
    };
    if ((await store.putJson(keys.manifest, manifest)) === "exists") {
      const existing = parseManifest(await store.getJson(keys.manifest), url(keys.manifest));
      if (existing.sha256 !== sha256 || existing.rows !== table.rows) {
        throw new ArchiveVerificationError(
          `${url(keys.manifest)} already exists and describes another object (sha256 ${existing.sha256}, ${existing.rows} rows); the table is kept: inspect and remove the stale archive, then run again`,
        );
      }
      return existing;
    }
    return manifest;
  } finally {
    await rm(file, { force: true });
  }
}

/** The live archive record of this partition, created in state `intent` if there is none. */
async function recordIntent(ctx: JobContext, action: ArchivePartitionAction, jobRunId: number | null): Promise<ArchiveRow> {
  const { sql } = ctx;
  const [created] = await sql<ArchiveRow[]>`
    insert into partkeeper.archive (parent_schema, parent_name, partition_schema, partition_name, bound_expression, state, job_run_id)
    values (${action.parent.schema}, ${action.parent.name}, ${action.partition.schema}, ${action.partition.name},
            ${action.boundExpression}, 'intent', ${jobRunId})
    on conflict (partition_schema, partition_name) where state not in ('dropped', 'kept') do nothing
    returning id::float8 as id, state`;
  if (created) return created;
  const [existing] = await sql<ArchiveRow[]>`
    select id::float8 as id, state from partkeeper.archive
    where partition_schema = ${action.partition.schema} and partition_name = ${action.partition.name}
      and state not in ('dropped', 'kept')`;
  if (!existing) throw new ArchiveError(`archive record for ${displayName(action.partition)} vanished; run again`);
  return existing;
}

async function relationBytes(ctx: JobContext, relation: QualifiedName): Promise<number> {
  const [row] = await ctx.sql`
    select coalesce(pg_total_relation_size(to_regclass(${quoteQualified(relation)})), 0)::float8 as bytes`;
  return (row?.bytes as number) ?? 0;
}
