import { rm } from "node:fs/promises";
import type { ParentInfo } from "../catalog/types.ts";
import type { DataAccess } from "../context.ts";
import type { QualifiedName } from "../identifier.ts";
import { exportToParquet } from "../parquet/export-parquet.ts";
import type { ParquetVersion } from "../parquet/parquet-version.ts";
import type { PageRange } from "../parquet/relation-summary.ts";
import type { PartitionArchive } from "./archive-keys.ts";

/**
 * Exports the partition (or the rows on `pages` of it: one part), calls `onExported`, and uploads
 * the file once under `objectKey`, deleting it after the upload, so temporary disk holds one file;
 * returns the SHA-256 the stored object must have (null when an object already stored there by an
 * earlier run carries none: verification then fails; else it is verified against its own metadata's SHA-256).
 * `parquetVersion` (config `archive.parquetVersion`, default `v1`) is the file's Parquet format version.
 */
export async function exportAndUpload(
  ctx: DataAccess,
  parent: ParentInfo,
  partition: QualifiedName,
  archive: PartitionArchive,
  objectKey: string,
  onExported: () => void,
  pages?: PageRange,
  parquetVersion?: ParquetVersion,
): Promise<string | null> {
  const exported = await exportToParquet({
    openCopyClient: ctx.openCopyClient,
    relation: partition,
    pages,
    columns: parent.columns,
    workDir: ctx.workDir,
    memoryMb: ctx.memoryMb,
    parquetVersion,
  });
  onExported();
  try {
    const outcome = await archive.store.putFile(objectKey, exported.file, {
      contentType: "application/vnd.apache.parquet",
      metadata: { sha256: exported.sha256, rows: String(exported.rows) },
      sha256: exported.sha256,
    });
    if (outcome === "created") return exported.sha256;
  } finally {
    await rm(exported.file, { force: true });
  }
  return (await archive.store.head(objectKey))?.metadata.sha256 ?? null;
}
