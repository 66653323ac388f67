import { rm } from "node:fs/promises";
import path from "node:path";
import type { ColumnInfo, ParentInfo } from "../catalog/types.ts";
import type { DataAccess } from "../context.ts";
import { ArchiveConflictError, ArchiveVerificationError } from "../errors.ts";
import { displayName } from "../identifier.ts";
import type { ArchivePartitionAction } from "../plan/actions.ts";
import { PARTKEEPER_VERSION } from "../version.ts";
import type { PartitionArchive } from "./archive-keys.ts";
import { CONTENT_DIGEST_ALGORITHM, contentDifferences } from "../parquet/content-digest.ts";
import { MANIFEST_FORMAT_VERSION, objectsSha256, parseManifest, type Manifest, type ManifestColumn, type ManifestObject } from "./manifest.ts";
import { parquetColumn } from "../parquet/parquet-types.ts";
import { relationColumnDigests, summarizeRelationContent, type PageRange } from "../parquet/relation-summary.ts";
import { readParquetColumnDigests, readParquetContent, type ContentRelationSummary } from "../parquet/read-parquet.ts";

export interface VerifyArchiveOptions {
  readonly parent: ParentInfo;
  readonly action: ArchivePartitionAction;
  readonly archive: PartitionArchive;
  /** Key of the data object of the current export attempt. */
  readonly objectKey: string;
  /** SHA-256 of the exported file (lower-case hex); null for records from before it was kept (then the object's `sha256` metadata). */
  readonly exportSha256: string | null;
  /** The table's summary when this run computed it alongside the export; else it is computed here. */
  readonly tableSummary: Promise<ContentRelationSummary> | null;
}

/**
 * Verifies the stored archive of a detached, guarded partition end to end (DESIGN rule 11), then
 * writes the manifest once (the commit marker, rule 7):
 *
 * 1. bytes: the stored object exists; the checksum the store keeps for it (when it keeps one) and the
 *    SHA-256 of the downloaded bytes equal the SHA-256 computed at export (a mismatching download is
 *    fetched once more, to tell a corrupted download from a corrupted object);
 * 2. content: rows, per-column NULL counts and the row digest of content-digest.ts, computed by
 *    Postgres on the partition and by DuckDB on the downloaded object, are equal;
 * 3. the manifest (with the content summary) is written, or an existing one must commit the same
 *    content (a crash after writing it, or an earlier archive of an unchanged partition).
 *
 * @throws ArchiveVerificationError when the object is missing or any check differs (the caller keeps
 *   the partition and exports it afresh under a new key); ArchiveConflictError when the manifest
 *   commits other content; ArchiveError for a store or read failure.
 */
export async function verifyArchive(ctx: DataAccess, options: VerifyArchiveOptions): Promise<Manifest> {
  const { parent, action, archive, objectKey } = options;
  const key: ColumnInfo | null = parent.keyColumns[0] ?? null;
  const verified = await verifyStoredObject(ctx, {
    parent,
    action,
    archive,
    objectKey,
    exportSha256: options.exportSha256,
    tableSummary: () => options.tableSummary ?? summarizeRelationContent(ctx.sql, action.partition, parent.columns, key),
  });
  const { bytes, sha256, summary: table } = verified;
  const content: ManifestContentSummary["content"] = {
    algorithm: CONTENT_DIGEST_ALGORITHM,
    digest: table.content.digest,
    columns: table.content.columns.map((c) => ({ name: c.name, nulls: c.nulls })),
  };
  const manifest = partitionManifest(ctx, parent, action, [{ key: objectKey, rows: table.rows, bytes, sha256 }], { ...table, content });
  return commitManifest(ctx, archive, manifest, action);
}

/** Key range and content summary of every row a manifest commits (verified against the partition). */
export interface ManifestContentSummary {
  readonly keyMin: string | null;
  readonly keyMax: string | null;
  readonly content: NonNullable<Manifest["content"]>;
}

/**
 * The manifest of `action`'s partition committing `objects` in order (one object, or the parts of an
 * archive in parts): rows and bytes summed, `sha256` by manifest.ts `objectsSha256`, the columns'
 * Postgres and Parquet types, and the key range and content summary verification compared. Pure but
 * for `ctx.clock` (createdAt).
 */
export function partitionManifest(
  ctx: Pick<DataAccess, "clock">,
  parent: ParentInfo,
  action: ArchivePartitionAction,
  objects: ReadonlyArray<ManifestObject>,
  summary: ManifestContentSummary,
): Manifest {
  return {
    formatVersion: MANIFEST_FORMAT_VERSION,
    parent: { schema: action.parent.schema, name: action.parent.name },
    partition: { schema: action.partition.schema, name: action.partition.name },
    boundExpression: action.boundExpression,
    columns: parent.columns.map(parquetColumn),
    rows: objects.reduce((n, o) => n + o.rows, 0),
    bytes: objects.reduce((n, o) => n + o.bytes, 0),
    sha256: objectsSha256(objects),
    objects: [...objects],
    partkeeperVersion: PARTKEEPER_VERSION,
    createdAt: ctx.clock().toISOString(),
    keyColumn: parent.keyColumns[0]?.name ?? null,
    keyMin: summary.keyMin,
    keyMax: summary.keyMax,
    content: summary.content,
  };
}

export interface VerifyStoredObjectOptions {
  readonly parent: ParentInfo;
  readonly action: ArchivePartitionAction;
  readonly archive: PartitionArchive;
  /** Key of the stored data object (one object, or one part). */
  readonly objectKey: string;
  /** SHA-256 of the exported file; null: the object's `sha256` metadata (records from before it was kept). */
  readonly exportSha256: string | null;
  /** Starts (or returns the running) Postgres summary of the rows the object must hold; called once the object is found. */
  readonly tableSummary: () => Promise<ContentRelationSummary>;
  /** Only these pages of the partition (one part of an archive in several parts); names differing columns within them. */
  readonly pages?: PageRange;
  /** Added to the partition's name in messages, e.g. ` (part 2 of 5)`. */
  readonly label?: string;
}

/** What verifyStoredObject found: the stored object's size and SHA-256, and the summary both sides agree on. */
export interface VerifiedObject {
  readonly bytes: number;
  readonly sha256: string;
  readonly summary: ContentRelationSummary;
}

/**
 * Steps 1 and 2 of verifyArchive for one stored object: bytes (store checksum, SHA-256 of the
 * download, a mismatching download fetched once more) and content (rows, NULL counts, row digest,
 * key range) against the Postgres summary of the rows it must hold.
 * @throws ArchiveVerificationError when the object is missing or any check differs; ArchiveError
 *   for a store or read failure.
 */
export async function verifyStoredObject(ctx: DataAccess, options: VerifyStoredObjectOptions): Promise<VerifiedObject> {
  const { parent, action, archive, objectKey } = options;
  const { store, url } = archive;
  const where = url(objectKey);
  const key: ColumnInfo | null = parent.keyColumns[0] ?? null;
  const stored = await store.head(objectKey);
  if (stored === null) throw new ArchiveVerificationError(`${where} is missing: the partition is kept and exported again on the next run`);
  const expected = options.exportSha256 ?? stored.metadata.sha256 ?? null;
  if (expected === null) throw new ArchiveVerificationError(`${where} has no recorded SHA-256 to verify against: the partition is kept and exported again`);
  if (stored.sha256 !== undefined && stored.sha256 !== expected) {
    throw new ArchiveVerificationError(`${where}: the store's checksum ${stored.sha256} differs from the export's SHA-256 ${expected}: the stored bytes are not what was exported`);
  }
  const tableSummary = options.tableSummary();
  // Settled now so a rejection while the download runs is not reported as unhandled.
  tableSummary.catch(() => {});

  const file = path.join(ctx.workDir, `verify-${process.pid}-${Date.now()}.parquet`);
  try {
    let bytes = 0;
    let sha256 = "";
    for (let download = 1; download <= 2 && sha256 !== expected; download++) {
      ({ bytes, sha256 } = await store.getToFile(objectKey, file));
    }
    if (sha256 !== expected) {
      throw new ArchiveVerificationError(
        `${where} differs from the export: SHA-256 ${sha256} of the stored object (downloaded twice) vs ${expected} computed at export; ` +
          "the partition is kept and exported again under a new key on the next run",
      );
    }
    const columns = parent.columns.map(parquetColumn);
    const [table, archived] = await Promise.all([tableSummary, readParquetContent(file, columns, key?.name ?? null, ctx.workDir, { memoryMb: ctx.memoryMb })]);
    const differences = contentDifferences(table.content, archived.content);
    if (table.keyMin !== archived.keyMin || table.keyMax !== archived.keyMax) {
      differences.push(`key range ${archived.keyMin}..${archived.keyMax} in the archive vs ${table.keyMin}..${table.keyMax} in the table`);
    }
    if (table.content.digest !== archived.content.digest && table.rows === archived.rows) {
      differences.push(...(await differingColumns(ctx, action, parent, file, columns, options.pages)));
    }
    if (differences.length) {
      throw new ArchiveVerificationError(
        `archive verification failed for ${displayName(action.partition)}${options.label ?? ""}: ${differences.join("; ")} (${where}); ` +
          "the partition is kept and exported again under a new key on the next run",
      );
    }
    return { bytes, sha256, summary: table };
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * Step 3 of verifyArchive: writes `manifest` once (the commit marker), or, when one is stored
 * already, returns it if it commits the same content (a crash after writing it, or an earlier
 * archive of an unchanged partition).
 * @throws ArchiveConflictError when the stored manifest commits other content.
 */
export async function commitManifest(ctx: DataAccess, archive: PartitionArchive, manifest: Manifest, action: ArchivePartitionAction): Promise<Manifest> {
  const { store, keys, url } = archive;
  if ((await store.putJson(keys.manifest, manifest)) === "created") return manifest;
  // A crash after writing it, or an earlier archive of the same content: either commits these rows.
  const existing = parseManifest(await store.getJson(keys.manifest), url(keys.manifest));
  const digest = manifest.content?.digest;
  const same = existing.content && digest !== undefined ? existing.content.digest === digest : existing.sha256 === manifest.sha256;
  if (!same || existing.rows !== manifest.rows) {
    throw new ArchiveConflictError(
      `${url(keys.manifest)} already commits an archive of other content (${existing.rows} rows, created ${existing.createdAt}) ` +
        `than ${displayName(action.partition)} holds now (${manifest.rows} rows): the partition was attached again and changed since, ` +
        "or an earlier table had its name. The partition is kept; see docs/deploy.md (Archive conflict)",
    );
  }
  ctx.logger.debug("manifest already stored with the same content", { manifest: keys.manifest });
  return existing;
}

/** Names the columns whose values differ (per-column digests in both engines), after the row digests differed. */
async function differingColumns(
  ctx: DataAccess,
  action: ArchivePartitionAction,
  parent: ParentInfo,
  file: string,
  columns: ReadonlyArray<ManifestColumn>,
  pages: PageRange | undefined,
): Promise<string[]> {
  const [inTable, inArchive] = await Promise.all([
    relationColumnDigests(ctx.sql, action.partition, parent.columns, pages),
    readParquetColumnDigests(file, columns, ctx.workDir, { memoryMb: ctx.memoryMb }),
  ]);
  const names = columns.filter((_, i) => inTable[i] !== inArchive[i]).map((c) => JSON.stringify(c.name));
  return names.length ? [`values differ in column${names.length > 1 ? "s" : ""} ${names.join(", ")}`] : [];
}
