import { createHash } from "node:crypto";
import { z } from "zod";
import { ArchiveError } from "../errors.ts";
import { CONTENT_DIGEST_ALGORITHM } from "../parquet/content-digest.ts";

/**
 * The manifest of one archived partition: `manifest.json` next to its Parquet object(s). It is
 * written last and written once, so its presence is the commit marker of the archive (DESIGN rule 7),
 * and it records each column's Postgres type so restore can rebuild the values (DESIGN rule 8).
 */
export const MANIFEST_FORMAT_VERSION = 1;

const qualifiedNameSchema = z.strictObject({ schema: z.string().min(1), name: z.string().min(1) });

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hex digits (SHA-256)");

/** One column: its name, `format_type()` text in Postgres and DuckDB type in the Parquet file. */
export const manifestColumnSchema = z.strictObject({
  name: z.string().min(1),
  /** e.g. `numeric(12,2)`, `timestamp with time zone`, `integer[]`, an enum's name. */
  pgType: z.string().min(1),
  /** e.g. `DECIMAL(12,2)`, `TIMESTAMPTZ`, `VARCHAR`. */
  parquetType: z.string().min(1),
});

/** One stored object; keys are relative to the archive location (see archive-keys.ts). */
export const manifestObjectSchema = z.strictObject({
  key: z.string().min(1),
  rows: z.int().nonnegative(),
  bytes: z.int().nonnegative(),
  sha256: sha256Hex,
});

/** The content summary verify compared (content-digest.ts), recorded so a restore can compare too. */
export const manifestContentSchema = z.strictObject({
  /** How `digest` was computed: the sum over rows of 60 bits of md5 of the row's canonical text. */
  algorithm: z.literal(CONTENT_DIGEST_ALGORITHM),
  digest: z.string().regex(/^\d+$/, "must be a non-negative decimal integer"),
  /** Per manifest column, in order: its NULL count. */
  columns: z.array(z.strictObject({ name: z.string().min(1), nulls: z.int().nonnegative() })),
});

export const manifestSchema = z.strictObject({
  formatVersion: z.literal(MANIFEST_FORMAT_VERSION),
  parent: qualifiedNameSchema,
  partition: qualifiedNameSchema,
  /** The bound clause as Postgres printed it with TimeZone = UTC, e.g. `FOR VALUES FROM ('2024-01-01 00:00:00+00') TO (...)`. */
  boundExpression: z.string().min(1),
  columns: z.array(manifestColumnSchema).min(1),
  /** Total rows over all objects. */
  rows: z.int().nonnegative(),
  /** Total bytes over all objects. */
  bytes: z.int().nonnegative(),
  /** SHA-256 of the single object; with several objects, of their sha256 values concatenated in order. */
  sha256: sha256Hex,
  objects: z.array(manifestObjectSchema).min(1),
  partkeeperVersion: z.string().min(1),
  /** ISO-8601 UTC with `Z`, e.g. `2026-11-21T07:00:00.000Z`. */
  createdAt: z.iso.datetime(),
  /** Partition key column used for keyMin/keyMax, or null (e.g. a list partition keyed by an expression). */
  keyColumn: z.string().min(1).nullable(),
  /** min/max of the key rendered as in parquet-types.ts `keyRendering` (epoch microseconds for timestamps); null when empty. */
  keyMin: z.string().nullable(),
  keyMax: z.string().nullable(),
  /** Absent in manifests written before partkeeper verified content digests. */
  content: manifestContentSchema.optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestColumn = z.infer<typeof manifestColumnSchema>;
export type ManifestObject = z.infer<typeof manifestObjectSchema>;

/**
 * Validates manifest JSON read from the store.
 * @throws ArchiveError naming `where` (e.g. the S3 URL) and every invalid field.
 */
export function parseManifest(json: unknown, where: string): Manifest {
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new ArchiveError(`manifest ${where} is not a valid partkeeper manifest (format ${MANIFEST_FORMAT_VERSION}): ${issues}`, {
      cause: result.error,
    });
  }
  return result.data;
}

/**
 * The manifest's `sha256` for its `objects` in order: the single object's SHA-256, or, with several,
 * the SHA-256 of their SHA-256 hex values concatenated. Pure.
 */
export function objectsSha256(objects: ReadonlyArray<Pick<ManifestObject, "sha256">>): string {
  if (objects.length === 1) return objects[0]!.sha256;
  return createHash("sha256").update(objects.map((o) => o.sha256).join("")).digest("hex");
}
