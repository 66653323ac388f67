/**
 * The object store partkeeper archives into. Keys are relative to the store's prefix (the path part
 * of the archive location `s3://bucket/prefix`), so archive code never sees bucket names.
 *
 * Written-once rule (DESIGN rule 7): `putFile` and `putJson` never overwrite. An object already under
 * the key yields `"exists"` and the stored object is left as it was; the caller decides whether that is
 * a resumed run (compare sha256 metadata) or a conflict.
 */
export interface ObjectStore {
  /** `s3://bucket/prefix`, for logs and error messages. */
  readonly location: string;

  /** Size (bytes), user metadata and stored checksum of the object under `key`, or null when there is none. */
  head(key: string): Promise<ObjectHead | null>;

  /**
   * Proves, before any partition is detached, that the archive location exists and accepts writes:
   * writes a small marker object (`.partkeeper/write-check`) once; an existing marker counts as
   * success only when the store answered the conditional write itself.
   * @throws ArchiveError naming the bucket and the cause (missing bucket, access denied, unreachable).
   */
  checkWritable(): Promise<void>;

  /**
   * Uploads the local file `file` to `key` once (large files as a multipart upload), with a SHA-256
   * checksum on the request (single PUT: of the whole file, `options.sha256`; multipart: of each
   * part), so a store that checks checksums (S3) rejects a body altered in transit.
   * @returns `"created"`, or `"exists"` when an object was already there (not overwritten).
   * @throws ArchiveError naming bucket and key on any other failure.
   */
  putFile(key: string, file: string, options: PutFileOptions): Promise<PutOutcome>;

  /**
   * Downloads `key` into the local file `file` (created or truncated).
   * @returns the number of bytes written and their SHA-256 (lower-case hex), computed as they arrive.
   * @throws ArchiveError when the object is missing or the download fails.
   */
  getToFile(key: string, file: string): Promise<{ readonly bytes: number; readonly sha256: string }>;

  /**
   * Stores `value` as pretty-printed UTF-8 JSON (`application/json`) once, like `putFile`.
   * @throws ArchiveError for `null`/`undefined` (they would read back as "missing").
   */
  putJson(key: string, value: unknown): Promise<PutOutcome>;

  /** Parsed JSON under `key`, or null when there is no object. @throws ArchiveError on invalid JSON. */
  getJson(key: string): Promise<unknown>;
}

/** Result of a written-once put: `exists` means an object was already there and was kept. */
export type PutOutcome = "created" | "exists";

export interface PutFileOptions {
  /** e.g. `application/vnd.apache.parquet`. */
  readonly contentType: string;
  /** User metadata (S3 `x-amz-meta-*`); keys lower-case ASCII, values ASCII (S3 restriction). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** SHA-256 of the file, lower-case hex: sent as the request's checksum of a single PUT. */
  readonly sha256?: string;
}

export interface ObjectHead {
  readonly bytes: number;
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * The checksum the store keeps for the object, when it keeps one (S3 with flexible checksums):
   * SHA-256 of the whole object as lower-case hex for a single PUT; undefined otherwise (multipart
   * objects carry a checksum of their parts' checksums; S3-compatible servers may keep none).
   */
  readonly sha256?: string;
}
