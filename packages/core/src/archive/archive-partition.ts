import type { ParentInfo } from "../catalog/types.ts";
import type { DataAccess } from "../context.ts";
import type { DdlExecutor } from "../db/ddl-executor.ts";
import { ArchiveConflictError, ArchiveError, ArchiveVerificationError } from "../errors.ts";
import { displayName } from "../identifier.ts";
import { detachPartition } from "../partitions/detach-partition.ts";
import { attachment, readRelationLayout, relationBytes, relationExists } from "../catalog/read-relation.ts";
import { attachPartitionSteps } from "../partitions/partition-ddl.ts";
import type { ArchivePartitionAction } from "../plan/actions.ts";
import { findLiveArchive, recordArchiveIntent, updateArchive, type ArchiveState, type ArchiveUpdate, type LiveArchive } from "../records/archives.ts";
import { dropGuardedPartitionSql, hasArchiveGuard, installArchiveGuard, removeArchiveGuardSql } from "./archive-guard.ts";
import { dataKey, type PartitionArchive } from "./archive-keys.ts";
import { archiveParts, partsDone, partsProgress, planPartPages, storedPartsPlan, type ArchivePace, type PartsPlan } from "./archive-parts.ts";
import { DEFAULT_ARCHIVE_PART_SIZE, parseByteSize } from "../config/schema.ts";
import { parseManifest, type Manifest } from "./manifest.ts";
import { exportAndUpload } from "./upload-export.ts";
import { parquetLabel, type ParquetVersion } from "../parquet/parquet-version.ts";
import { summarizeRelationContent } from "../parquet/relation-summary.ts";
import type { ContentRelationSummary } from "../parquet/read-parquet.ts";
import { verifyArchive } from "./verify-archive.ts";

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

/**
 * An archive in several parts that stopped before the job's deadline: the partition stays detached
 * and read-only (its guard) with its finished parts recorded, and the next run continues it.
 */
export interface ArchiveContinuation {
  readonly continues: true;
  readonly archiveId: number;
  readonly partsArchived: number;
  readonly parts: number;
  /** `3 of 8 parts archived; continues on the next run` */
  readonly message: string;
}

/** What archivePartition takes of the job beyond the data access. */
export interface ArchiveRunOptions {
  /** Table bytes per Parquet part (config `archive.partSize`). Default 4 GB. */
  readonly partBytes?: number;
  /** Shared by the archives of one run: how long a part took (the deadline check). */
  readonly pace?: ArchivePace;
  /** Parquet format version of the archive's objects (config `archive.parquetVersion`). Default `v1`. */
  readonly parquetVersion?: ParquetVersion;
}

/**
 * Exports per partition and run: a verification failure is followed at once by one fresh export
 * under a new key (a corrupted transfer need not wait a day); a second failure ends the run.
 */
const MAX_EXPORTS_PER_RUN = 2;

/**
 * Archives one expired partition, resuming wherever a previous run stopped (DESIGN rules 6, 7, 11):
 *
 * 1. the archive location must accept a write (before any DDL: a missing bucket or a denied write
 *    leaves the partition attached);
 * 2. record intent -> detach -> guard the detached partition (archive-guard.ts: a write into it by
 *    name fails loudly until the drop);
 * 3. export to Parquet under the attempt's key (written once, with a SHA-256 checksum per request);
 *    Postgres computes the partition's content summary from then on -> record `exported`;
 * 4. verify bytes and content (verify-archive.ts) -> manifest -> record `verified`;
 *    a partition larger than `partBytes` instead goes through steps 3-4 in parts (archive-parts.ts),
 *    each part recorded in state `detached` once verified; the run stops before a part that would
 *    not finish before `ctx.deadline` (returns an ArchiveContinuation, the partition stays detached
 *    and guarded), and the next run continues with the first unfinished part;
 * 5. drop (in one transaction proving the guard held) -> `dropped`; or, with `keepTable`, remove the
 *    guard -> `kept`.
 *
 * Each step is recorded in `partkeeper.archive` after it completes, so a crash after any step is
 * finished by the next run. When export, upload or verification fails, the partition is attached to
 * its parent again before the error is thrown, so its rows are never invisible longer than the run;
 * a failed verification also moves the record to the next attempt, so the next run exports afresh
 * under a new key (a stored object is never reused once it failed, nor overwritten). An archive in
 * parts with finished parts is not attached again after an error that is not a verification failure
 * (an upload, the store, a lock): it stays detached and guarded, as between runs, and the next run
 * continues with its next part instead of starting over.
 *
 * In a dry run the same path runs with every step only recorded in `exec.log` (its write check,
 * DDL, export and verification), the record moved along in memory; returns null then.
 * @throws ArchiveError (store unreachable or not writable, export or upload failed),
 *   ArchiveVerificationError (stored object missing or different: the partition is kept),
 *   LockTimeoutError (a DDL step could not get its lock).
 */
export async function archivePartition(
  ctx: DataAccess & { readonly deadline?: number },
  exec: DdlExecutor,
  parent: ParentInfo,
  action: ArchivePartitionAction,
  archive: PartitionArchive,
  jobRunId: number | null,
  options: ArchiveRunOptions = {},
): Promise<ArchiveOutcome | ArchiveContinuation | null> {
  const { store, keys, url } = archive;
  await exec.perform({ description: `check that ${store.location} accepts writes`, plan: [], work: () => store.checkWritable() });
  const partitionBytes = await relationBytes(ctx.sql, action.partition);
  // A dry run reads the live record (or starts from `intent`) and moves it along in memory only.
  const live = exec.dryRun ? await findLiveArchive(ctx.sql, action.partition) : await recordArchiveIntent(ctx.sql, action, jobRunId);
  if (!live && !exec.dryRun) throw new ArchiveError(`archive record for ${displayName(action.partition)} vanished; run again`);
  let record: LiveArchive = live ?? { id: 0, state: "intent", attempt: 1, objectKey: null, exportSha256: null, parts: null };
  const log = { partition: displayName(action.partition), archiveId: record.id };
  const setState = async (state: ArchiveState, fields: Omit<ArchiveUpdate, "manifest"> & { manifest?: Manifest | null } = {}) => {
    const { manifest: m, ...rest } = fields;
    record = { ...record, ...rest, state };
    if (rest.parts !== undefined) record = { ...record, parts: rest.parts };
    if (exec.dryRun) return;
    await updateArchive(ctx.sql, record.id, state, { ...rest, ...(m ? { manifest: { key: keys.manifest, rows: m.rows, bytes: m.bytes, sha256: m.sha256 } } : {}) });
    ctx.logger.info("archive step recorded", { ...log, state, attempt: record.attempt });
  };

  const wasAttached = await detachPartition(exec, parent, action.partition);
  if (wasAttached && (record.state === "exported" || record.state === "verified")) {
    // Attached again since its export (an operator, a restore): it may hold rows written since, so
    // it is exported afresh, under a new key.
    await setState("detached", { attempt: record.attempt + 1, objectKey: dataKey(keys, record.attempt + 1), parts: null, lastError: "attached again after its export" });
  } else if (wasAttached && record.state === "detached" && partsDone(record.parts, record.attempt) > 0) {
    // Attached again between its parts: the finished parts may miss rows written since.
    await setState("detached", { attempt: record.attempt + 1, objectKey: dataKey(keys, record.attempt + 1), parts: null, lastError: "attached again during its export in parts" });
  } else if (record.state === "intent" || wasAttached) {
    await setState("detached");
  }

  let manifest: Manifest | null = null;
  let tableSummary: Promise<ContentRelationSummary> | null = null;
  const pace = options.pace ?? { slowestPartMs: 0 };
  for (let exportsThisRun = 0; ; ) {
    try {
      if (record.state === "verified" && !action.keepTable && (await relationExists(exec.sql, action.partition)) && !(await hasArchiveGuard(exec.sql, action.partition))) {
        // Verified without the guard in place (a record from a partkeeper without guards, or the guard
        // was removed): writes may have reached the table since, so it is verified again under the guard.
        await installArchiveGuard(exec, action.partition);
        await setState("exported");
      } else if (record.state === "detached" || record.state === "exported") {
        await installArchiveGuard(exec, action.partition);
      }
      const plan = record.state === "detached" ? await partsPlanFor(ctx, exec, action, record, options.partBytes ?? parseByteSize(DEFAULT_ARCHIVE_PART_SIZE), setState) : null;
      if (plan !== null) {
        if (plan.done.length === 0) exportsThisRun += 1;
        const result = await archiveParts(
          { ctx, exec, parent, action, archive, pace, parquetVersion: options.parquetVersion, recordPart: (next) => setState("detached", { parts: next }) },
          plan,
        );
        if (result.kind === "stopped") {
          const message = partsProgress(result.done, result.parts);
          ctx.logger.warn("archive continues on the next run", { ...log, partsDone: result.done, parts: result.parts });
          return { continues: true, archiveId: record.id, partsArchived: result.done, parts: result.parts, message };
        }
        manifest = result.manifest;
        if (manifest) await setState("verified", { manifest, objectKey: manifest.objects[0]!.key });
        else await setState("verified");
      }
      if (record.state === "detached") {
        exportsThisRun += 1;
        const objectKey = dataKey(keys, record.attempt);
        const exportSha256 = await exec.perform({
          description: `export ${displayName(action.partition)} to ${url(objectKey)}`,
          plan: [`-- export to ${url(objectKey)} (${parquetLabel(options.parquetVersion)}, ZSTD, SHA-256 checksum on upload)`],
          work: () =>
            exportAndUpload(ctx, parent, action.partition, archive, objectKey, () => {
              // The partition is frozen by its guard. Postgres summarizes it during the upload, download and
              // read-back rather than during the export: on shared CPUs that competed with the COPY (measured).
              tableSummary ??= summarizeRelationContent(ctx.sql, action.partition, parent.columns, parent.keyColumns[0] ?? null);
              tableSummary.catch(() => {});
            }, undefined, options.parquetVersion),
        });
        await setState("exported", { objectKey, ...(exportSha256 === null ? {} : { exportSha256 }) });
      }
      if (record.state === "exported") {
        const objectKey = record.objectKey ?? keys.data;
        const exportSha256 = record.exportSha256;
        manifest = await exec.perform({
          description: `verify ${url(objectKey)} against ${displayName(action.partition)}`,
          plan: [`-- verify the stored bytes and every value against the partition, then write ${url(keys.manifest)}`],
          work: () => verifyArchive(ctx, { parent, action, archive, objectKey, exportSha256, tableSummary }),
        });
        await setState("verified", { manifest });
      }
      break;
    } catch (error) {
      // A stored object that failed verification is never reused: the next export uses the next key.
      const attempt = error instanceof ArchiveVerificationError ? record.attempt + 1 : record.attempt;
      if (attempt !== record.attempt && exportsThisRun < MAX_EXPORTS_PER_RUN) {
        await setState("detached", { attempt, objectKey: dataKey(keys, attempt), parts: null, lastError: (error as Error).message });
        ctx.logger.warn("archive verification failed; exporting again under a new key", { ...log, error: (error as Error).message });
        continue;
      }
      const done = attempt === record.attempt && !(error instanceof ArchiveConflictError) ? partsDone(record.parts, record.attempt) : 0;
      if (done > 0) {
        // Finished parts are kept: the partition stays detached and guarded, as between runs.
        const parts = storedPartsPlan(record.parts, record.attempt)!.firstPages.length;
        (error as Error).message += `; ${displayName(action.partition)} stays detached and read-only with ${done} of ${parts} parts archived: the next run continues`;
        ctx.logger.warn("archive step failed; partition stays detached with its finished parts", { ...log, partsDone: done, parts, error: (error as Error).message });
        await setState("detached", { lastError: (error as Error).message });
        throw error;
      }
      const attached = await reattachAfterFailure(ctx, exec, parent, action, error as Error);
      // Attached again, it may take writes: the next run detaches and exports it again (reusing the
      // attempt's object if it is stored and the content still matches). Else resume where it stopped.
      const state = attached || attempt !== record.attempt ? "detached" : record.state;
      await setState(state, { attempt, objectKey: dataKey(keys, attempt), ...(attempt === record.attempt ? {} : { parts: null }), lastError: (error as Error).message });
      throw error;
    }
  }

  if (record.state === "verified") {
    if (!(await relationExists(exec.sql, action.partition))) {
      // Dropped by a run that crashed before recording it.
    } else if (action.keepTable) {
      await exec.run({ description: `keep archived partition ${displayName(action.partition)} (writable again)`, statements: [removeArchiveGuardSql(action.partition)], transaction: true });
    } else {
      await exec.run({ description: `drop archived partition ${displayName(action.partition)}`, statements: dropGuardedPartitionSql(action.partition), transaction: true });
    }
    await setState(action.keepTable ? "kept" : "dropped");
  }
  if (exec.dryRun) return null;
  manifest ??= parseManifest(await store.getJson(keys.manifest), url(keys.manifest));
  const objectKey = manifest.objects[0]?.key ?? keys.data;
  return {
    archiveId: record.id,
    rows: manifest.rows,
    bytes: manifest.bytes,
    partitionBytes,
    objectKey,
    objectUrl: url(objectKey),
    manifestKey: keys.manifest,
    finalState: record.state === "kept" ? "kept" : "dropped",
  };
}

/**
 * Attaches the partition to its parent again after a failed export, upload or verification, so its
 * rows are visible through the parent while the archive waits for the next run. Extends `error`'s
 * message with the outcome; returns true when the partition is attached.
 */
async function reattachAfterFailure(ctx: DataAccess, exec: DdlExecutor, parent: ParentInfo, action: ArchivePartitionAction, error: Error): Promise<boolean> {
  const hasDefaultPartition = parent.partitions.some((p) => p.bounds.kind === "default");
  try {
    if (!(await relationExists(exec.sql, action.partition))) return false;
    if ((await attachment(exec.sql, action.partition)) === "detached") {
      await exec.run({
        description: `attach ${displayName(action.partition)} again after the failed archive step`,
        statements: attachPartitionSteps(action.parent, action.partition, action.boundExpression, hasDefaultPartition),
        transaction: true,
      });
    }
    ctx.logger.warn("archive step failed; partition attached again", { partition: displayName(action.partition), error: error.message });
    error.message += `; ${displayName(action.partition)} is attached to ${displayName(action.parent)} again until the next run`;
    return true;
  } catch (attachError) {
    error.message += `; ${displayName(action.partition)} could not be attached again (${(attachError as Error).message}): it stays detached, nothing is lost, and the next run resumes`;
    return false;
  }
}


/**
 * The part plan of the record's attempt for a detached partition, or null when it is archived as one
 * object (no stored plan and at most `partBytes` of table). A stored plan is kept for its attempt
 * (planned once), unless the table was rewritten since (another relfilenode): then the record moves
 * to the next attempt and it is planned afresh. A new plan of several parts is recorded before its
 * first part is exported.
 */
async function partsPlanFor(
  ctx: DataAccess,
  exec: DdlExecutor,
  action: ArchivePartitionAction,
  record: LiveArchive,
  partBytes: number,
  setState: (state: ArchiveState, fields: Omit<ArchiveUpdate, "manifest">) => Promise<void>,
): Promise<PartsPlan | null> {
  const stored = storedPartsPlan(record.parts, record.attempt);
  const layout = await readRelationLayout(exec.sql, action.partition);
  let attempt = record.attempt;
  if (stored !== null) {
    if (stored.relfilenode === layout.relfilenode) return stored;
    attempt += 1;
    ctx.logger.warn("partition rewritten since its part plan; exporting again under new keys", { partition: displayName(action.partition), attempt });
  }
  const firstPages = planPartPages(layout, partBytes);
  if (firstPages.length === 1) {
    if (attempt !== record.attempt) await setState("detached", { attempt, parts: null, lastError: "rewritten (VACUUM FULL, CLUSTER) during its export in parts" });
    return null;
  }
  const plan: PartsPlan = { attempt, relfilenode: layout.relfilenode, pages: layout.pages, firstPages, done: [] };
  await setState("detached", { attempt, parts: plan, ...(attempt === record.attempt ? {} : { lastError: "rewritten (VACUUM FULL, CLUSTER) during its export in parts" }) });
  return plan;
}
