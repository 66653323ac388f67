import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import type { DataAccess } from "../context.ts";
import type { DdlExecutor } from "../db/ddl-executor.ts";
import { ArchiveError, ConfigError } from "../errors.ts";
import { displayName, qualifiedName, sameName, type QualifiedName } from "../identifier.ts";
import type { ObjectStore } from "../store/object-store.ts";
import { attachPartitionSteps, createLikeParentSql, dropTableSql } from "../partitions/partition-ddl.ts";
import { postgresKeySummary } from "../parquet/parquet-types.ts";
import { quoteIdent, quoteQualified } from "../parquet/quote.ts";
import { loadParquet } from "../parquet/load-parquet.ts";
import { parseManifest, type Manifest, type ManifestColumn } from "../archive/manifest.ts";
import { contentDifferences } from "../parquet/content-digest.ts";
import { summarizeRelation, summarizeRelationContent } from "../parquet/relation-summary.ts";
import { sha256File } from "../parquet/read-parquet.ts";
import { findPartitionByName, hasIndexes, readDefaultPartition, readIndexDefinitions, readRelation, unknownTypes, type IndexDefinition, type RelationInfo } from "../catalog/read-relation.ts";
import { ArchivedGeneratedSummary, type ColumnFingerprint } from "./archived-generated.ts";
import { columnDifferences, generatedDifferences } from "./column-checks.ts";
import { buildIndexesSql, dropIndexesSql, likeWithIndexesSql } from "./target-indexes.ts";
import { findOpenRestore, insertRestore, setRestoreState, type RestoreMode, type RestoreRecord, type RestoreRecordKey, type RestoreState } from "../records/restores.ts";
import {
  checkBoundExpression,
  checkTableName,
  createFromManifestSql,
  defaultRestoreTarget,
  loadCommentSql,
} from "./restore-sql.ts";

export type { RestoreMode } from "../records/restores.ts";

export const RESTORE_MODES = ["attach", "side-table"] as const satisfies ReadonlyArray<RestoreMode>;

export interface RestoreOptions {
  /** The partitioned table the partition was archived from. */
  readonly parent: QualifiedName;
  /** The archived partition's name (without schema), e.g. `workflow_events_p2025_01`. */
  readonly partition: string;
  /** The archived partition's schema. Default: the parent's. */
  readonly partitionSchema?: string;
  /**
   * `side-table`: load into a new plain table (`target`) that is not attached: for reading old rows.
   * `attach`: load into a table under the partition's original name and attach it to the parent with
   * the manifest's bounds: the rows are visible through the parent again.
   */
  readonly mode: RestoreMode;
  /**
   * Side-table mode only: the new table's name, in the partition's schema.
   * Default `<partition>_restored`, kept within 63 bytes (restore-sql.ts `defaultRestoreTarget`).
   */
  readonly target?: string;
  /** Plan only: record the SQL (create, a `-- load N rows from <url>` line, attach) and change nothing. */
  readonly dryRun: boolean;
}

export interface RestoreResult {
  readonly parent: QualifiedName;
  readonly partition: QualifiedName;
  /** The table holding the restored rows (the partition itself in attach mode). */
  readonly target: QualifiedName;
  readonly mode: RestoreMode;
  /** Rows in the archive (= rows in the target after a restore). */
  readonly rows: number;
  /** `s3://bucket/prefix/.../manifest.json` */
  readonly manifestUrl: string;
  /**
   * `restored`: this call loaded and/or attached; `already restored`: the target already held the
   * archive's rows (and, in attach mode, was attached with its bounds): nothing was done (also in a
   * dry run); `planned`: dry run, `statements` is what a real run would execute.
   */
  readonly status: "restored" | "already restored" | "planned";
  /** Where the target's columns came from: the parent (`LIKE`), or the manifest's types (parent gone or changed). */
  readonly columnsFrom: "parent" | "manifest";
  /** The SQL run (or, in a dry run, planned) in order; the COPY appears as a `-- load N rows from <url>` line. */
  readonly statements: ReadonlyArray<string>;
  /** Row id in `partkeeper.restore`; null in a dry run and when nothing had to be done before. */
  readonly restoreId: number | null;
  readonly durationMs: number;
  readonly ok: true;
}

/**
 * The partition and target a restore of `options` works on, after validating the options.
 * @throws ConfigError for an unknown mode, a name over 63 bytes, or a target in attach mode.
 */
export function restoreTargets(options: RestoreOptions): { readonly partition: QualifiedName; readonly target: QualifiedName } {
  const { parent, mode } = options;
  if (!RESTORE_MODES.includes(mode)) throw new ConfigError(`restore mode ${JSON.stringify(mode)} is not one of ${RESTORE_MODES.join(", ")}`);
  const partition = qualifiedName(options.partitionSchema ?? parent.schema, options.partition);
  for (const [what, name] of [["partition", partition.name], ["target", options.target]] as const) {
    const problem = name === undefined ? null : checkTableName(name);
    if (problem) throw new ConfigError(`restore ${what} ${JSON.stringify(name)} ${problem}`);
  }
  if (mode === "attach" && options.target !== undefined && options.target !== partition.name) {
    throw new ConfigError(
      `restore target ${JSON.stringify(options.target)} applies to side-table mode only: attach mode restores ${displayName(partition)} under its own name`,
    );
  }
  const target = mode === "attach" ? partition : options.target !== undefined ? qualifiedName(partition.schema, options.target) : defaultRestoreTarget(partition);
  return { partition, target };
}

/** What one restore works with. */
export interface RestoreRun {
  readonly ctx: DataAccess;
  readonly exec: DdlExecutor;
  readonly store: ObjectStore;
  readonly url: (key: string) => string;
  readonly manifest: Manifest;
  readonly manifestUrl: string;
  readonly record: RestoreRecordKey;
}

export interface RestoreOutcome {
  readonly status: "restored" | "already restored";
  readonly columnsFrom: "parent" | "manifest";
  readonly restoreId: number | null;
}

/**
 * Reads and validates the manifest; it must describe `partition` of `parent`.
 * @throws ArchiveError when there is none, it is invalid, or it describes another partition.
 */
export async function readManifest(store: ObjectStore, key: string, manifestUrl: string, parent: QualifiedName, partition: QualifiedName): Promise<Manifest> {
  const json = await store.getJson(key);
  if (json === null) {
    throw new ArchiveError(`no archive of ${displayName(partition)} at ${manifestUrl}: check the name, or list the prefix`);
  }
  const manifest = parseManifest(json, manifestUrl);
  if (!sameName(manifest.parent, parent) || !sameName(manifest.partition, partition)) {
    throw new ArchiveError(
      `manifest ${manifestUrl} describes ${displayName(manifest.partition)} of ${displayName(manifest.parent)}, not ${displayName(partition)} of ${displayName(parent)}: ` +
        "check the archive prefix in the config",
    );
  }
  const badBound = checkBoundExpression(manifest.boundExpression);
  if (badBound) throw new ArchiveError(`manifest ${manifestUrl}: boundExpression ${JSON.stringify(manifest.boundExpression)} ${badBound}`);
  const objectRows = manifest.objects.reduce((n, o) => n + o.rows, 0);
  if (objectRows !== manifest.rows) {
    throw new ArchiveError(`manifest ${manifestUrl} is inconsistent: its objects hold ${objectRows} rows, it says ${manifest.rows} in total`);
  }
  return manifest;
}

/**
 * Steps 2-4 of the restore job (run/run-restore.ts `restorePartition` describes them in full): check
 * the target, create it and load it object by object (loadAndCheck), check it against the
 * manifest, then attach it in attach mode (run holds the parent's lock then). Every step goes through
 * `run.exec`, so a dry run records create / `-- load` / attach and downloads, creates and records nothing.
 * @throws ArchiveError as restorePartition describes; LockTimeoutError when a DDL statement kept timing out.
 */
export async function restoreArchive(run: RestoreRun): Promise<RestoreOutcome> {
  const { ctx, exec, manifest, record } = run;
  const { parent, partition, target, mode } = record;
  const parentRelation = await readRelation(ctx.sql, parent);
  const differences = parentRelation ? columnDifferences(manifest.columns, parentRelation.columns) : [];

  if (mode === "attach") {
    if (!parentRelation || parentRelation.relkind !== "p") {
      throw new ArchiveError(
        `cannot attach ${displayName(partition)}: ${displayName(parent)} ${parentRelation ? "is not a partitioned table" : "does not exist"}; ` +
          "restore it with mode side-table instead",
      );
    }
    if (differences.length) {
      throw new ArchiveError(
        `cannot attach ${displayName(partition)} to ${displayName(parent)}: the parent's columns changed since the archive (${differences.join(", ")}); ` +
          "restore it with mode side-table instead",
      );
    }
  }
  const columnsFrom = parentRelation && differences.length === 0 ? "parent" : "manifest";

  let openRecord: RestoreRecord | null = await findOpenRestore(ctx.sql, record);
  /** partkeeper's record of this restore: moved to `state` (inserted when `insert` and there is none); not written in a dry run. */
  const recordState = async (state: RestoreState, insert: boolean) => {
    if (exec.dryRun || (!openRecord && !insert)) return;
    openRecord = openRecord ? await setRestoreState(ctx.sql, openRecord.id, state) : await insertRestore(ctx.sql, record, state);
  };

  const existing = await readRelation(ctx.sql, target);
  if (existing && mode === "attach" && existing.attachedTo && sameName(existing.attachedTo, parent)) {
    if (existing.boundExpression === manifest.boundExpression) {
      ctx.logger.info("already restored", { partition: displayName(partition), target: displayName(target) });
      await recordState("attached", false);
      return { status: "already restored", columnsFrom, restoreId: openRecord?.id ?? null };
    }
    throw new ArchiveError(
      `${displayName(target)} is already a partition of ${displayName(parent)} with other bounds (${existing.boundExpression}; the archive has ${manifest.boundExpression}): ` +
        "it is not this archive; detach and rename it, then run restore again",
    );
  }

  const work = existing ? await existingTargetState(run, existing, openRecord, parentRelation) : "create";
  if (work === "complete" && mode === "side-table") {
    await recordState("loaded", false);
    return { status: "already restored", columnsFrom, restoreId: openRecord?.id ?? null };
  }
  if (work !== "complete") await loadAndCheck(run, work, columnsFrom, recordState);
  await recordState("loaded", true);

  if (mode === "attach") {
    await attach(run);
    await recordState("attached", false);
  }
  return { status: "restored", columnsFrom, restoreId: openRecord?.id ?? null };
}

/**
 * An existing target either holds exactly the archive (`complete`: rows and key range match), or is
 * empty and was created by an unfinished restore of this archive (`empty`: load it). Anything else
 * is refused: it is not ours to overwrite. In attach mode, such a table whose columns are generated
 * where the parent's are plain or the other way round (restores before INCLUDING GENERATED left
 * generated columns plain, and ATTACH refused the table) is refused with the statement to drop it.
 */
async function existingTargetState(
  run: RestoreRun,
  existing: RelationInfo,
  open: RestoreRecord | null,
  parentRelation: RelationInfo | null,
): Promise<"complete" | "empty"> {
  const { ctx, manifest, record } = run;
  const { target, mode } = record;
  const next = mode === "attach" ? "drop it (or rename it) and run restore again" : "drop it, or pass another target";
  if (existing.relkind !== "r") {
    throw new ArchiveError(`${displayName(target)} exists and is not a plain table (relkind ${existing.relkind}): ${next}`);
  }
  if (existing.attachedTo) {
    throw new ArchiveError(`${displayName(target)} exists and is a partition of ${displayName(existing.attachedTo)}: ${mode === "attach" ? next : "pass another target"}`);
  }
  const differences = columnDifferences(manifest.columns, existing.columns);
  if (differences.length) {
    throw new ArchiveError(`${displayName(target)} exists with other columns than the archive (${differences.join(", ")}): ${next}`);
  }
  const rows = (await summarizeRelation(ctx.sql, target, null)).rows;
  const state = rows === 0 && manifest.rows > 0 && open?.state === "loading" ? "empty" : rows === manifest.rows && (await keyRangeMatches(run)) ? "complete" : null;
  const generated = mode === "attach" && parentRelation ? generatedDifferences(record.parent, parentRelation.columns, existing.columns) : [];
  if (state && generated.length) {
    throw new ArchiveError(
      `${displayName(target)} exists, but ${generated.join("; ")}, so ${displayName(record.parent)} cannot attach it ` +
        `(restores before tables were created INCLUDING GENERATED left it so). It ${state === "empty" ? "is empty" : `holds the archive's ${rows} rows, nothing else`}: ` +
        `drop it (DROP TABLE ${quoteQualified(target)}) and run restore again, which creates it with the parent's generated columns and loads it from the archive`,
    );
  }
  if (state === "complete") ctx.logger.info("target already holds the archive's rows; not loading again", { target: displayName(target), rows });
  if (state) return state;
  throw new ArchiveError(
    `${displayName(target)} already exists with other contents (${rows} rows; the archive ${run.manifestUrl} has ${manifest.rows}${rows === manifest.rows ? " but another key range" : ""}): ${next}`,
  );
}

/** Rows and key min/max of the target equal the manifest's (the figures archive verification recorded). */
async function keyRangeMatches(run: RestoreRun): Promise<boolean> {
  const { ctx, manifest, record } = run;
  const keyColumn = manifest.keyColumn === null ? null : manifest.columns.find((c) => c.name === manifest.keyColumn);
  const summary = await summarizeRelation(ctx.sql, record.target, keyColumn ? { name: keyColumn.name, type: keyColumn.pgType } : null);
  return summary.rows === manifest.rows && (!keyColumn || (summary.keyMin === manifest.keyMin && summary.keyMax === manifest.keyMax));
}

/**
 * Step 3 of restorePartition: creates the target (`create`) or takes the empty one an unfinished
 * restore created (`empty`), loads every object into it and checks it against the manifest.
 *
 * One object at a time: download it to `ctx.workDir`, check size and SHA-256 against the manifest,
 * load it, delete it, so the work directory holds one object, not the whole archive. The first object
 * is checked before anything is created (or recorded), so a damaged single-object archive creates
 * nothing, as before. A later object that cannot be downloaded or does not match is found after the
 * earlier ones were loaded: the target (created by this restore, or by the unfinished restore of the
 * same archive it resumes) then holds some verified objects and not others, and is dropped again,
 * so a re-run starts from nothing instead of refusing a table with other contents.
 *
 * Attach mode, parent with indexes: the target is created with the parent's indexes and they are
 * dropped before the load and built once after the checks (target-indexes.ts says why and how), so
 * ATTACH finds them. The checks are one scan of the target (rows, key min/max and, when the manifest
 * has it, the content summary: relation-summary.ts `summarizeRelationContent`).
 */
async function loadAndCheck(
  run: RestoreRun,
  work: "create" | "empty",
  columnsFrom: "parent" | "manifest",
  recordState: (state: RestoreState, insert: boolean) => Promise<void>,
): Promise<void> {
  const { ctx, exec, manifest, record } = run;
  const withIndexes = record.mode === "attach" && (await hasIndexes(ctx.sql, record.parent));
  let file = manifest.objects.length ? await fetchObject(run, 0, false) : null;
  try {
    if (work === "create") {
      // An open record whose table is gone (dropped after a failed restore) is this restore's again.
      await recordState("loading", true);
      await createTarget(run, columnsFrom, withIndexes);
    }
    const indexes = await setIndexesAside(run, withIndexes);
    const target = await readRelation(ctx.sql, record.target);
    const generatedNames = new Set(target?.columns.filter((c) => c.generated).map((c) => c.name));
    const generated = manifest.columns.filter((c) => generatedNames.has(c.name));
    const archivedGenerated = exec.dryRun ? null : await ArchivedGeneratedSummary.open(ctx.workDir, ctx.memoryMb, manifest.columns, generated);
    try {
      for (const [i, object] of manifest.objects.entries()) {
        if (i > 0) file = await fetchObject(run, i, true);
        if (file !== null) await archivedGenerated?.add(file);
        await loadObject(run, i, file, generated);
        if (file !== null) await rm(file, { force: true });
        file = null;
        ctx.logger.info("archive object loaded", { target: displayName(record.target), object: object.key, rows: object.rows });
      }
      await exec.perform({
        description: `check ${displayName(record.target)} against ${run.manifestUrl}`,
        plan: [],
        work: () => checkTarget(run, generated, archivedGenerated),
      });
    } finally {
      archivedGenerated?.close();
    }
    await buildIndexes(run, indexes, withIndexes);
  } finally {
    if (file !== null) await rm(file, { force: true });
  }
}

/**
 * Downloads object `i` into the work directory and checks size and SHA-256 against the manifest;
 * the file's path, or null in a dry run. On any failure the file is removed, and when `loadedBefore`
 * (objects before it are loaded) the target is dropped again, the error saying so.
 */
async function fetchObject(run: RestoreRun, i: number, loadedBefore: boolean): Promise<string | null> {
  const { ctx, exec, store, manifest, manifestUrl, url, record } = run;
  const object = manifest.objects[i]!;
  const dropped = `${displayName(record.target)}, loaded from the ${i} object(s) before it, was dropped again: nothing is restored`;
  return exec.perform({
    description: `download and check ${url(object.key)}`,
    plan: [],
    work: async () => {
      const file = path.join(ctx.workDir, `restore-${randomUUID()}-${i}.parquet`);
      try {
        const { bytes } = await store.getToFile(object.key, file);
        const sha256 = await sha256File(file);
        if (bytes !== object.bytes || sha256 !== object.sha256) {
          throw new ArchiveError(
            `${url(object.key)} does not match its manifest ${manifestUrl}: ${bytes} bytes with sha256 ${sha256}, the manifest says ${object.bytes} bytes with sha256 ${object.sha256}; ` +
              `${loadedBefore ? dropped : "nothing was created"}: the object or the manifest is damaged or from another archive; restore from an older object version if the bucket is versioned`,
          );
        }
        ctx.logger.info("archive object downloaded and checked", { object: object.key, bytes, rows: object.rows });
        return file;
      } catch (error) {
        await rm(file, { force: true });
        if (!loadedBefore) throw error;
        await exec.run({ description: `drop ${displayName(record.target)} again`, statements: [dropTableSql(record.target)], transaction: true });
        if (error instanceof ArchiveError) throw error;
        throw new ArchiveError(`could not download ${url(object.key)}: ${(error as Error).message}; ${dropped}: run restore again`, { cause: error });
      }
    },
  });
}

async function createTarget(run: RestoreRun, columnsFrom: "parent" | "manifest", withIndexes: boolean): Promise<void> {
  const { ctx, exec, manifest, record } = run;
  if (columnsFrom === "manifest") {
    const unknown = await unknownTypes(ctx.sql, manifest.columns);
    if (unknown.length) {
      throw new ArchiveError(
        `cannot create ${displayName(record.target)} from the manifest's column types: this database does not know ${unknown.join(", ")}; ` +
          "create those types (e.g. the enum) first, or create the table yourself and pass it as the target",
      );
    }
  }
  const like = columnsFrom === "parent" ? createLikeParentSql(record.target, record.parent) : null;
  const statement = like === null ? createFromManifestSql(record.target, manifest.columns) : withIndexes ? likeWithIndexesSql(like) : like;
  await exec.run({ description: `create ${displayName(record.target)} for restore`, statements: [statement], transaction: true });
}

/**
 * Attach mode with a parent that has indexes: reads the target's indexes (Postgres's text for this
 * very table) and drops them until it is loaded; returns them. A dry run records a comment instead
 * (the target does not exist yet). Empty otherwise.
 */
async function setIndexesAside(run: RestoreRun, withIndexes: boolean): Promise<ReadonlyArray<IndexDefinition>> {
  const { ctx, exec, record } = run;
  if (record.mode !== "attach") return [];
  if (exec.dryRun) {
    if (withIndexes) await exec.perform({ description: "set indexes aside", plan: [`-- drop the indexes of ${quoteQualified(record.target)} until it is loaded`], work: async () => null });
    return [];
  }
  const indexes = await readIndexDefinitions(ctx.sql, record.target);
  if (indexes.length) {
    await exec.run({ description: `drop the indexes of ${displayName(record.target)} until it is loaded`, statements: dropIndexesSql(record.target, indexes), transaction: true });
  }
  return indexes;
}

/** Builds the indexes `setIndexesAside` dropped, after the load and the checks. */
async function buildIndexes(run: RestoreRun, indexes: ReadonlyArray<IndexDefinition>, withIndexes: boolean): Promise<void> {
  const { exec, record } = run;
  if (exec.dryRun && withIndexes) {
    await exec.perform({ description: "build indexes", plan: [`-- build the indexes of ${quoteQualified(record.target)} again`], work: async () => null });
    return;
  }
  if (indexes.length === 0) return;
  await exec.run({ description: `build the indexes of ${displayName(record.target)}`, statements: buildIndexesSql(record.target, indexes), transaction: true });
}

/**
 * Loads object `i` from `file` (null in a dry run) with one COPY in its own transaction, so a failed
 * one loads nothing; a `-- load` line in the plan. Columns generated in the target are not loaded:
 * Postgres computes them (a COPY naming one fails).
 */
async function loadObject(run: RestoreRun, i: number, file: string | null, generated: ReadonlyArray<ManifestColumn>): Promise<void> {
  const { ctx, exec, manifest, record, url } = run;
  const object = manifest.objects[i]!;
  const loaded = await exec.perform({
    description: `load ${displayName(record.target)} from ${url(object.key)}`,
    plan: [loadCommentSql(object.rows, url(object.key), record.target)],
    work: () =>
      loadParquet({
        openCopyClient: ctx.openCopyClient,
        file: file!,
        target: record.target,
        columns: manifest.columns,
        generated: generated.map((c) => c.name),
        workDir: ctx.workDir,
        memoryMb: ctx.memoryMb,
      }),
  });
  if (loaded && loaded.rows !== object.rows) {
    throw new ArchiveError(`${url(object.key)} held ${loaded.rows} rows, its manifest says ${object.rows}; ${displayName(record.target)} is kept for inspection: drop it before running restore again`);
  }
}

/**
 * After loading, in one scan of the target: it holds exactly the manifest's rows and key range, and,
 * when the manifest records the content summary archive verification compared (content-digest.ts;
 * manifests from before it have none), the same NULL counts and row digest, so every value came back
 * as it was archived. Between the two, the generated columns (`checkGenerated`). On a difference the
 * table is kept for inspection (dropped for a generated column, which checkGenerated explains).
 */
async function checkTarget(run: RestoreRun, generated: ReadonlyArray<ManifestColumn>, archivedGenerated: ArchivedGeneratedSummary | null): Promise<void> {
  const { ctx, manifest, record } = run;
  const key = manifest.keyColumn === null ? null : manifest.columns.find((c) => c.name === manifest.keyColumn);
  const keyColumn = key ? { name: key.name, type: key.pgType } : null;
  const columns = manifest.columns.map((c) => ({ name: c.name, type: c.pgType }));
  const withContent = manifest.content ? await summarizeRelationContent(ctx.sql, record.target, columns, keyColumn) : null;
  const summary = withContent ?? (await summarizeRelation(ctx.sql, record.target, keyColumn));
  if (summary.rows !== manifest.rows || (keyColumn && (summary.keyMin !== manifest.keyMin || summary.keyMax !== manifest.keyMax))) {
    throw new ArchiveError(
      `${displayName(record.target)} holds ${summary.rows} rows after loading; the manifest ${run.manifestUrl} says ${manifest.rows} rows, key ${manifest.keyMin}..${manifest.keyMax}: ` +
        "the table is kept for inspection: drop it before running restore again",
    );
  }
  if (archivedGenerated) await checkGenerated(run, generated, archivedGenerated);
  if (manifest.content && withContent) {
    const archived = { rows: manifest.rows, digest: manifest.content.digest, columns: manifest.content.columns };
    const differences = contentDifferences(archived, withContent.content, { expected: "archived", actual: "restored" });
    if (differences.length) {
      throw new ArchiveError(
        `${displayName(record.target)} does not hold the values archived in ${run.manifestUrl}: ${differences.join("; ")}; ` +
          "the table is kept for inspection: drop it before running restore again",
      );
    }
  }
  ctx.logger.info("target checked against the manifest", { target: displayName(record.target), rows: summary.rows });
}

/**
 * After loading: each column Postgres computed (`generated`) has, over all rows, the same non-NULL
 * count and min/max as the archived values in the Parquet object(s), rendered as archive verification
 * renders key columns (parquet-types.ts `postgresKeySummary` / `duckdbKeySummary`). The archived side
 * was summed up object by object while loading (archived-generated.ts); one scan of the table per
 * generated column. A fingerprint, not a row-by-row proof; it catches a generation expression changed
 * since the archive (`ALTER ... SET EXPRESSION`, or the column dropped and added again), which would
 * otherwise restore other values than were archived. On a difference the target (created and loaded
 * by this restore) is dropped again, so a re-run does not take it for complete.
 * @throws ArchiveError naming the column and both fingerprints.
 */
async function checkGenerated(run: RestoreRun, generated: ReadonlyArray<ManifestColumn>, archivedGenerated: ArchivedGeneratedSummary): Promise<void> {
  const { ctx, exec, record } = run;
  const archived = await archivedGenerated.fingerprints();
  const differences: string[] = [];
  const fingerprint = (f: ColumnFingerprint | undefined) => `${String(f?.nonNull)} non-NULL, min ${String(f?.min)}, max ${String(f?.max)}`;
  for (const column of generated) {
    // The target's type is the manifest's: restore refuses a parent or target whose types differ.
    const [restored] = await ctx.sql.unsafe(
      `select count(${quoteIdent(column.name)})::text as non_null, ${postgresKeySummary(column.pgType, quoteIdent(column.name))} from ${quoteQualified(record.target)}`,
    );
    const computed = { nonNull: String(restored?.non_null), min: (restored?.key_min as string | null) ?? null, max: (restored?.key_max as string | null) ?? null };
    if (fingerprint(archived.get(column.name)) !== fingerprint(computed)) {
      differences.push(`${column.name}: archived ${fingerprint(archived.get(column.name))}; computed ${fingerprint(computed)}`);
    }
  }
  if (differences.length === 0) {
    ctx.logger.info("generated columns match the archive", { target: displayName(record.target), columns: generated.map((c) => c.name) });
    return;
  }
  await exec.run({ description: `drop ${displayName(record.target)} again`, statements: [dropTableSql(record.target)], transaction: true });
  throw new ArchiveError(
    `${displayName(record.target)} was loaded, but Postgres computed its generated columns with other values than the archive ${run.manifestUrl} holds ` +
      `(${differences.join("; ")}): the generation expression in ${displayName(record.parent)} changed since the archive. ` +
      `${displayName(record.target)} was dropped again, nothing is restored; read the archived values from the Parquet object directly (docs/restore.md, "Inspect an archive without restoring")`,
  );
}

/** ATTACH through the executor; Postgres's refusals become errors naming the overlap. The table stays detached on failure. */
async function attach(run: RestoreRun): Promise<void> {
  const { ctx, exec, manifest, record } = run;
  const hasDefault = (await readDefaultPartition(ctx.sql, record.parent)) !== null;
  const statements = attachPartitionSteps(record.parent, record.target, manifest.boundExpression, hasDefault);
  try {
    await exec.run({ description: `attach restored ${displayName(record.target)} to ${displayName(record.parent)}`, statements, transaction: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message;
    const left = `${displayName(record.target)} is loaded (${manifest.rows} rows) and left detached: query it directly, or`;
    const overlap = /would overlap partition "((?:[^"]|"")*)"/.exec(message);
    if (code === "42P17" /* invalid_object_definition */ && overlap) {
      const other = await findPartitionByName(ctx.sql, record.parent, overlap[1]!);
      throw new ArchiveError(
        `cannot attach ${displayName(record.target)} to ${displayName(record.parent)} ${manifest.boundExpression}: its range overlaps partition ` +
          `${other ? `${displayName(other.name)} (${other.boundExpression})` : overlap[1]}. ${left} detach or archive the overlapping partition and run restore again`,
        { cause: error },
      );
    }
    if (code === "23514" /* check_violation */ && /default partition/.test(message)) {
      const defaultPartition = await readDefaultPartition(ctx.sql, record.parent);
      throw new ArchiveError(
        `cannot attach ${displayName(record.target)} to ${displayName(record.parent)} ${manifest.boundExpression}: rows of that range sit in the default partition ` +
          `${defaultPartition ? displayName(defaultPartition) : "of the parent"}. ${left} move those rows out of the default partition and run restore again`,
        { cause: error },
      );
    }
    if (error instanceof Error && error.name === "LockTimeoutError") throw error;
    throw new ArchiveError(`cannot attach ${displayName(record.target)} to ${displayName(record.parent)} ${manifest.boundExpression}: ${message}. ${left} fix the cause and run restore again`, {
      cause: error,
    });
  }
}
