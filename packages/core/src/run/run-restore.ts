import { locateArchive } from "../archive/archive-keys.ts";
import { archivePrefixOf, findPolicy } from "../config/select-tables.ts";
import type { JobContext } from "../context.ts";
import { jobDdlExecutor } from "../db/ddl-executor.ts";
import { migrate } from "../db/migrate.ts";
import { withParentLock } from "../db/parent-lock.ts";
import { ArchiveError } from "../errors.ts";
import { displayName } from "../identifier.ts";
import { readManifest, restoreArchive, restoreTargets, type RestoreOptions, type RestoreOutcome, type RestoreResult, type RestoreRun } from "../restore/restore-partition.ts";

/**
 * Restores one archived partition from its Parquet object(s) and manifest (DESIGN "restore").
 *
 * 1. Finds the archive by its deterministic keys (archive-keys.ts, with the parent's policy
 *    `archive.prefix` when the parent is configured) and reads + validates `manifest.json`.
 * 2. Checks the target: attached to the parent with the manifest's bounds (attach mode), or holding
 *    exactly the archive's rows and key range: `already restored`, nothing to do. Holding anything
 *    else: an error telling to drop it or choose another target. Empty with an unfinished restore
 *    record (a crash after CREATE): loaded again.
 * 3. Downloads the first object to `ctx.workDir` and checks its size and SHA-256 against the
 *    manifest BEFORE anything is created; then records `loading` in `partkeeper.restore`, creates the
 *    target (`LIKE` the parent including its generated columns, and in attach mode its indexes; or
 *    from the manifest's `pgType`s when the parent is gone or its columns changed; attach mode needs
 *    the parent and refuses a changed one), drops the target's indexes until it is loaded
 *    (restore/target-indexes.ts), and loads the objects one at a time (download, check, load with
 *    load-parquet.ts, delete; generated columns left to Postgres; a later object that does not match
 *    drops the target again). Then one scan checks rows and key range against the manifest and NULL
 *    counts and the row digest against its content summary when it has one, and the computed
 *    generated columns against the archived ones (`checkGenerated`); the indexes are built again
 *    from Postgres's own text; records `loaded`.
 * 4. Attach mode: `ALTER TABLE parent ATTACH PARTITION t <manifest bounds>` through the DdlExecutor
 *    (lock_timeout + retries, DESIGN rule 1); records `attached`. An overlapping partition or rows
 *    of the range in the default partition make Postgres refuse: the error names them and the loaded
 *    table stays detached, ready for a re-run once the overlap is gone.
 *
 * Attach mode holds the parent's advisory lock throughout (DESIGN rule 2), so no maintain or archive
 * run works on the parent meanwhile. Every DDL goes through the DdlExecutor; in a dry run the executor
 * records create / `-- load` / attach and nothing is downloaded, created or recorded.
 *
 * A restored partition that is still expired is archived again by the next archive run: its object
 * and manifest exist already and are kept (written once); verification compares the stored object
 * with the restored rows, which match, and the partition is dropped again.
 *
 * @throws ConfigError for invalid options (a target in attach mode, a name over 63 bytes);
 *   ArchiveError when there is no archive, the manifest is invalid or names another partition, an
 *   object's checksum differs, the target holds other rows (or, in attach mode, other generated
 *   columns than the parent), the parent's columns changed (attach mode), a generated column computes
 *   other values than archived, the parent's lock is held by another run, or Postgres refuses the
 *   ATTACH; LockTimeoutError when a DDL statement kept timing out.
 */
export async function restorePartition(ctx: JobContext, options: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const { parent, mode, dryRun } = options;
  const { partition, target } = restoreTargets(options);
  const { store, keys, url } = locateArchive(ctx.store, archivePrefixOf(findPolicy(ctx.config, parent)), parent, partition, "restore");
  const manifestUrl = url(keys.manifest);
  const manifest = await readManifest(store, keys.manifest, manifestUrl, parent, partition);

  const exec = jobDdlExecutor(ctx, dryRun);
  const run: RestoreRun = {
    ctx,
    exec,
    store,
    url,
    manifest,
    manifestUrl,
    record: { parent, partition, mode, target, manifestKey: keys.manifest, rows: manifest.rows },
  };
  const log = { job: "restore", parent: displayName(parent), partition: displayName(partition), target: displayName(target), mode, dryRun };
  ctx.logger.info("restore started", { ...log, manifestUrl, rows: manifest.rows });

  if (!dryRun) await migrate(ctx.sql, ctx.config.lockTimeoutMs);
  let outcome: RestoreOutcome;
  if (mode === "attach" && !dryRun) {
    const locked = await withParentLock(ctx.sql, parent, () => restoreArchive(run));
    if (!locked.acquired) {
      throw new ArchiveError(
        `cannot restore ${displayName(partition)} into ${displayName(parent)}: another run holds the lock for ${displayName(parent)} (${locked.holder}); ` +
          "wait for it to finish (maintain and archive runs are short) and run restore again",
      );
    }
    outcome = locked.value;
  } else {
    outcome = await restoreArchive(run);
  }

  const result: RestoreResult = {
    parent,
    partition,
    target,
    mode,
    rows: manifest.rows,
    manifestUrl,
    status: outcome.status === "already restored" ? outcome.status : dryRun ? "planned" : "restored",
    columnsFrom: outcome.columnsFrom,
    statements: exec.log.flatMap((step) => step.statements),
    restoreId: outcome.restoreId,
    durationMs: Date.now() - started,
    ok: true,
  };
  ctx.logger.info("restore finished", { ...log, status: result.status, rows: result.rows, durationMs: result.durationMs });
  if (!dryRun && result.status === "restored") ctx.metrics.count("PartitionsRestored", 1, displayName(parent));
  return result;
}
