import { z } from "zod";
import type { ColumnInfo, ParentInfo } from "../catalog/types.ts";
import type { DataAccess } from "../context.ts";
import type { Sql } from "../db/client.ts";
import type { DdlExecutor } from "../db/ddl-executor.ts";
import { ArchiveError, ArchiveVerificationError } from "../errors.ts";
import { displayName, type QualifiedName } from "../identifier.ts";
import { CONTENT_DIGEST_ALGORITHM } from "../parquet/content-digest.ts";
import { parquetLabel, type ParquetVersion } from "../parquet/parquet-version.ts";
import type { ContentRelationSummary } from "../parquet/read-parquet.ts";
import { summarizeRelation, summarizeRelationContent, type PageRange } from "../parquet/relation-summary.ts";
import type { ArchivePartitionAction } from "../plan/actions.ts";
import { partKey, type PartitionArchive } from "./archive-keys.ts";
import { readRelationLayout, type RelationLayout } from "../catalog/read-relation.ts";
import type { Manifest } from "./manifest.ts";
import { exportAndUpload } from "./upload-export.ts";
import { commitManifest, partitionManifest, verifyStoredObject } from "./verify-archive.ts";

/**
 * Archives in several Parquet parts (issue 8): a partition too large for one invocation (the
 * 15-minute Lambda limit, /tmp) is exported as page ranges of its heap, each part exported, uploaded
 * under its own write-once key (archive-keys.ts `partKey`), verified by reading it back against the
 * Postgres summary of the same pages, and only then recorded in `partkeeper.archive.parts`
 * (migration 0008). A run stopped by its deadline, a crash or a failed upload leaves the partition
 * detached and guarded with its finished parts, and the next run continues with the first
 * unfinished part. When every part is done, the parts' rows are checked against `count(*)` of the
 * partition and the manifest lists the parts in order (the commit marker, DESIGN rule 7).
 *
 * Why page (ctid) ranges: the partition is detached and frozen by its guard (archive-guard.ts), so
 * its rows stay on their pages; disjoint ranges covering every page, the last one open-ended, give
 * every row exactly once, each read by a TID Range Scan (no index, no sort, no key needed). A rewrite
 * (VACUUM FULL, CLUSTER) moves rows and changes the relfilenode: the plan records it, and a
 * different one voids the plan (a new attempt under new keys).
 */

/** One part uploaded, verified and recorded. */
export interface ArchivedPart {
  /** 1-based part number. */
  readonly part: number;
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
  /** SHA-256 of the stored object, lower-case hex. */
  readonly sha256: string;
  /** Content summary of the part (content-digest.ts), as verified. */
  readonly digest: string;
  /** NULL count per column, in table order. */
  readonly nulls: ReadonlyArray<number>;
  readonly keyMin: string | null;
  readonly keyMax: string | null;
  /** Export, upload and verification of this part, ms: the deadline check's estimate for the next one. */
  readonly durationMs: number;
}

/** The part plan of one export attempt, stored as `partkeeper.archive.parts`. */
export interface PartsPlan {
  /** Export attempt the plan belongs to; a record of another attempt ignores it. */
  readonly attempt: number;
  /** `pg_relation_filenode` when planned: another one means the table was rewritten and the plan is void. */
  readonly relfilenode: string;
  /** Heap pages when planned. */
  readonly pages: number;
  /** First page of each part, ascending from 0: part i covers [firstPages[i], firstPages[i+1]), the last part to the end. */
  readonly firstPages: ReadonlyArray<number>;
  /** Finished parts, in part order (1..done.length). */
  readonly done: ReadonlyArray<ArchivedPart>;
}

const storedPlanSchema = z.object({
  attempt: z.int().positive(),
  relfilenode: z.string().min(1),
  pages: z.int().nonnegative(),
  firstPages: z.array(z.int().nonnegative()).min(2),
  done: z.array(
    z.object({
      part: z.int().positive(),
      key: z.string().min(1),
      rows: z.int().nonnegative(),
      bytes: z.int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      digest: z.string().regex(/^\d+$/),
      nulls: z.array(z.int().nonnegative()),
      keyMin: z.string().nullable(),
      keyMax: z.string().nullable(),
      durationMs: z.number().nonnegative(),
    }),
  ),
});

/**
 * The stored plan of `attempt` (the record's `parts` column), or null when there is none, it is of
 * another attempt, or it does not parse (then the attempt is planned afresh; parts already stored
 * under its keys are verified again when re-exported).
 */
export function storedPartsPlan(stored: unknown, attempt: number): PartsPlan | null {
  const parsed = storedPlanSchema.safeParse(stored);
  if (!parsed.success || parsed.data.attempt !== attempt) return null;
  return parsed.data;
}

/** Finished parts of the stored plan of `attempt` (0 without one). */
export function partsDone(stored: unknown, attempt: number): number {
  return storedPartsPlan(stored, attempt)?.done.length ?? 0;
}

/**
 * First page of each part for a table of `layout` and parts of about `partBytes` of table (heap +
 * TOAST, so wide values stored out of line count): `ceil(tableBytes / partBytes)` parts (at most one
 * per page), of equal page counts; `[0]` for one part. Pure.
 */
export function planPartPages(layout: Pick<RelationLayout, "pages" | "tableBytes">, partBytes: number): number[] {
  if (!(partBytes > 0)) throw new ArchiveError(`archive part size must be positive, got ${partBytes}`);
  const parts = Math.min(Math.max(1, Math.ceil(layout.tableBytes / partBytes)), Math.max(1, layout.pages));
  const pagesPerPart = Math.ceil(layout.pages / parts);
  const firstPages: number[] = [];
  for (let page = 0; firstPages.length < parts && (page < layout.pages || page === 0); page += pagesPerPart) firstPages.push(page);
  return firstPages;
}

/** Pages of part `index` (0-based) of `plan`; the last part is open-ended so no page is missed. */
export function partPages(plan: Pick<PartsPlan, "firstPages">, index: number): PageRange {
  const next = plan.firstPages[index + 1];
  return { firstPage: plan.firstPages[index]!, endPage: next === undefined ? null : next };
}

/**
 * The content summary of the whole partition from its parts' (content-digest.ts: the digest is a
 * sum over rows, so it adds up; NULL counts add up). Pure.
 */
export function combinePartContents(parts: ReadonlyArray<ArchivedPart>, columns: ReadonlyArray<{ readonly name: string }>): NonNullable<Manifest["content"]> {
  return {
    algorithm: CONTENT_DIGEST_ALGORITHM,
    digest: parts.reduce((sum, p) => sum + BigInt(p.digest), 0n).toString(),
    columns: columns.map((c, i) => ({ name: c.name, nulls: parts.reduce((n, p) => n + (p.nulls[i] ?? 0), 0) })),
  };
}

/** `3 of 8 parts archived; continues on the next run` */
export function partsProgress(done: number, parts: number): string {
  return `${done} of ${parts} parts archived; continues on the next run`;
}

/** The job's pace, shared by the archives of one run: the deadline check needs how long a part takes. */
export interface ArchivePace {
  /** Slowest part of this run so far, ms (0 before the first). */
  slowestPartMs: number;
}

/**
 * How much of the time before the deadline the next part must have: 1.5 times the slowest part so
 * far (this run's, or this attempt's recorded ones); without one, any time at all (the job's
 * deadline already keeps DEADLINE_MARGIN_MS before the Lambda timeout).
 */
export const PART_TIME_FACTOR = 1.5;

/** What the parts of one archive attempt need from archivePartition. */
export interface PartsRun {
  readonly ctx: DataAccess & { readonly deadline?: number };
  readonly exec: DdlExecutor;
  readonly parent: ParentInfo;
  readonly action: ArchivePartitionAction;
  readonly archive: PartitionArchive;
  readonly pace: ArchivePace;
  /** Parquet format version of the parts (config `archive.parquetVersion`). Default `v1`. */
  readonly parquetVersion?: ParquetVersion | undefined;
  /** Records the plan with one more finished part (state stays `detached`). */
  readonly recordPart: (plan: PartsPlan) => Promise<void>;
}

/** What archiveParts ended with: the manifest written, or stopped before the deadline. */
export type PartsResult = { readonly kind: "manifest"; readonly manifest: Manifest | null } | { readonly kind: "stopped"; readonly done: number; readonly parts: number };

/**
 * Exports, uploads, verifies and records every unfinished part of `plan` in order, stopping before
 * a part that would not finish before the deadline; then checks the parts against the partition and
 * writes the manifest. In a dry run every part and the manifest are recorded as steps only.
 * @throws ArchiveVerificationError (a part differs, the rows do not add up, the table was rewritten:
 *   the caller starts a new attempt), ArchiveConflictError (the manifest commits other content),
 *   ArchiveError (export, upload, store).
 */
export async function archiveParts(run: PartsRun, initial: PartsPlan): Promise<PartsResult> {
  const { ctx, exec, parent, action, archive, pace } = run;
  const partition = action.partition;
  const key: ColumnInfo | null = parent.keyColumns[0] ?? null;
  const count = initial.firstPages.length;
  let plan = initial;
  for (let index = plan.done.length; index < count; index++) {
    if (!exec.dryRun) {
      const slowest = Math.max(pace.slowestPartMs, ...plan.done.map((p) => p.durationMs));
      const left = (ctx.deadline ?? Number.POSITIVE_INFINITY) - Date.now();
      if (left <= 0 || left < PART_TIME_FACTOR * slowest) {
        ctx.logger.warn("archive stopped before the deadline", { partition: displayName(partition), partsDone: index, parts: count, slowestPartMs: slowest, leftMs: left });
        return { kind: "stopped", done: index, parts: count };
      }
    }
    const part = index + 1;
    const objectKey = partKey(archive.keys, plan.attempt, part);
    const pages = partPages(plan, index);
    const range = `pages ${pages.firstPage}..${pages.endPage === null ? "end" : pages.endPage - 1}`;
    const label = ` (part ${part} of ${count})`;
    const started = Date.now();
    const verified = await exec.perform({
      description: `export part ${part} of ${count} of ${displayName(partition)} to ${archive.url(objectKey)} and verify it`,
      plan: [`-- export part ${part} of ${count} (${range}) to ${archive.url(objectKey)} (${parquetLabel(run.parquetVersion)}, ZSTD, SHA-256 checksum on upload), then verify it`],
      work: async () => {
        await assertSameTable(ctx.sql, partition, plan);
        let summary: Promise<ContentRelationSummary> | null = null;
        const summarize = () => (summary ??= summarizeRelationContent(ctx.sql, partition, parent.columns, key, pages));
        const exportSha256 = await exportAndUpload(ctx, parent, partition, archive, objectKey, () => void summarize().catch(() => {}), pages, run.parquetVersion);
        const result = await verifyStoredObject(ctx, { parent, action, archive, objectKey, exportSha256, tableSummary: summarize, pages, label });
        await assertSameTable(ctx.sql, partition, plan);
        return result;
      },
    });
    if (verified === null) continue; // dry run
    const durationMs = Date.now() - started;
    pace.slowestPartMs = Math.max(pace.slowestPartMs, durationMs);
    const { summary } = verified;
    const done: ArchivedPart = {
      part,
      key: objectKey,
      rows: summary.rows,
      bytes: verified.bytes,
      sha256: verified.sha256,
      digest: summary.content.digest,
      nulls: summary.content.columns.map((c) => c.nulls),
      keyMin: summary.keyMin,
      keyMax: summary.keyMax,
      durationMs,
    };
    plan = { ...plan, done: [...plan.done, done] };
    await run.recordPart(plan);
    ctx.logger.info("archive part verified and recorded", { partition: displayName(partition), part, parts: count, rows: done.rows, bytes: done.bytes, durationMs });
  }
  const manifest = await exec.perform({
    description: `check the ${count} parts of ${displayName(partition)} against it and write ${archive.url(archive.keys.manifest)}`,
    plan: [`-- check that the ${count} verified parts hold every row of the partition (count(*), key range), then write ${archive.url(archive.keys.manifest)}`],
    work: () => commitParts(run, plan, key),
  });
  return { kind: "manifest", manifest };
}

/** After the last part: the parts' rows against count(*) of the partition, then the manifest (written once). */
async function commitParts(run: PartsRun, plan: PartsPlan, key: ColumnInfo | null): Promise<Manifest> {
  const { ctx, parent, action, archive } = run;
  const partition = action.partition;
  const whole = await summarizeRelation(ctx.sql, partition, key);
  await assertSameTable(ctx.sql, partition, plan);
  const rows = plan.done.reduce((n, p) => n + p.rows, 0);
  const problems: string[] = [];
  if (plan.done.length !== plan.firstPages.length) problems.push(`${plan.done.length} parts recorded of ${plan.firstPages.length} planned`);
  if (rows !== whole.rows) problems.push(`the parts hold ${rows} rows, the partition ${whole.rows}`);
  // Each part's key range was verified against its pages; the partition's extremes must be among them.
  if (!plan.done.some((p) => p.keyMin === whole.keyMin) || !plan.done.some((p) => p.keyMax === whole.keyMax)) {
    problems.push(`the partition's key range ${whole.keyMin}..${whole.keyMax} is not the parts' (${plan.done.map((p) => `${p.keyMin}..${p.keyMax}`).join(", ")})`);
  }
  if (problems.length) {
    throw new ArchiveVerificationError(
      `archive verification failed for ${displayName(partition)}: ${problems.join("; ")}; the partition is kept and exported again under a new key`,
    );
  }
  const objects = plan.done.map((p) => ({ key: p.key, rows: p.rows, bytes: p.bytes, sha256: p.sha256 }));
  const summary = { keyMin: whole.keyMin, keyMax: whole.keyMax, content: combinePartContents(plan.done, parent.columns) };
  return commitManifest(ctx, archive, partitionManifest(ctx, parent, action, objects, summary), action);
}

/** @throws ArchiveVerificationError when the table was rewritten (another relfilenode) since `plan`. */
async function assertSameTable(sql: Sql, partition: QualifiedName, plan: PartsPlan): Promise<void> {
  const { relfilenode } = await readRelationLayout(sql, partition);
  if (relfilenode !== plan.relfilenode) {
    throw new ArchiveVerificationError(
      `${displayName(partition)} was rewritten (VACUUM FULL, CLUSTER) during its archive in parts: its rows moved between pages, ` +
        "so the part plan is void; the partition is kept and exported again under a new key",
    );
  }
}
