import { ArchiveError } from "../errors.ts";
import { displayName, type QualifiedName } from "../identifier.ts";
import type { ObjectStore } from "../store/object-store.ts";

/**
 * Deterministic object keys of one partition's archive (DESIGN rule 7), relative to the archive
 * location: `<policy prefix>/<partition schema>/<partition name>/data.parquet` and `.../manifest.json`.
 *
 * Every path segment is URI-encoded (`encodeURIComponent`, plus `.`/`..` segments as `%2E`), so
 * quotes, spaces, `/`, `%` and unicode in names can neither collide nor add directory levels:
 * `Événements "x"` -> `%C3%89v%C3%A9nements%20%22x%22`.
 */
export interface ArchiveKeys {
  /** `<policy prefix>/<schema>/<name>`, no trailing slash. */
  readonly directory: string;
  readonly data: string;
  readonly manifest: string;
}

export interface ArchiveKeysOptions {
  readonly parent: QualifiedName;
  readonly partition: QualifiedName;
  /**
   * The table policy's `archive.prefix` (its `/` separate segments; each segment is encoded, empty
   * ones dropped). Default: the parent's `<schema>/<table>`.
   */
  readonly policyPrefix?: string | undefined;
}

/** URI-encodes one key segment; `.` and `..` are encoded too so no tool normalizes them away. */
export function encodeKeySegment(segment: string): string {
  const encoded = encodeURIComponent(segment);
  return encoded === "." || encoded === ".." ? encoded.replaceAll(".", "%2E") : encoded;
}

/** The deterministic keys of one partition's archive (see ArchiveKeys); pure. */
export function archiveKeys(options: ArchiveKeysOptions): ArchiveKeys {
  const prefixSegments =
    options.policyPrefix === undefined
      ? [options.parent.schema, options.parent.name]
      : options.policyPrefix.split("/").filter((s) => s !== "");
  const directory = [...prefixSegments, options.partition.schema, options.partition.name].map(encodeKeySegment).join("/");
  return Object.freeze({ directory, data: `${directory}/data.parquet`, manifest: `${directory}/manifest.json` });
}

/**
 * Key of the data object written by export attempt `attempt` (1, 2, ...): `data.parquet`, then
 * `data.2.parquet`, ... An attempt whose stored object failed verification is followed by a fresh
 * export under the next key, since archive objects are written once and never overwritten.
 */
export function dataKey(keys: ArchiveKeys, attempt: number): string {
  if (!Number.isSafeInteger(attempt) || attempt < 1) throw new ArchiveError(`export attempt must be a positive integer, got ${attempt}`);
  return attempt === 1 ? keys.data : `${keys.directory}/data.${attempt}.parquet`;
}

/**
 * Key of part `part` (1, 2, ...) of export attempt `attempt` of a partition archived in several
 * Parquet parts (archive-parts.ts): `data.part-0001.parquet`, ... for attempt 1, then
 * `data.2.part-0001.parquet`, ... Like `dataKey`, written once per attempt; numbered with at least
 * four digits so keys list in part order.
 */
export function partKey(keys: ArchiveKeys, attempt: number, part: number): string {
  if (!Number.isSafeInteger(part) || part < 1) throw new ArchiveError(`archive part must be a positive integer, got ${part}`);
  const data = dataKey(keys, attempt);
  return `${data.slice(0, -".parquet".length)}.part-${String(part).padStart(4, "0")}.parquet`;
}

/** Where one partition's archive lives: the store, its keys, and full `s3://` URLs for messages. */
export interface PartitionArchive {
  readonly store: ObjectStore;
  readonly keys: ArchiveKeys;
  /** `s3://bucket/prefix/<key>` */
  url(key: string): string;
}

/**
 * The archive location of `partition` of `parent` in `store`, under the parent's policy
 * `archive.prefix` (undefined: the default prefix, also for a parent removed from the config).
 * @throws ArchiveError when no archive location is configured (`store` null); `verb` names the attempted step.
 */
export function locateArchive(
  store: ObjectStore | null,
  policyPrefix: string | undefined,
  parent: QualifiedName,
  partition: QualifiedName,
  verb: "archive" | "restore",
): PartitionArchive {
  if (!store) {
    throw new ArchiveError(`cannot ${verb} ${displayName(partition)}: no archive location is configured (archive.location or --archive)`);
  }
  return {
    store,
    keys: archiveKeys({ parent, partition, policyPrefix }),
    url: (key) => `${store.location.replace(/\/$/, "")}/${key}`,
  };
}
