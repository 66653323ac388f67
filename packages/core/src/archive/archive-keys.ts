import type { QualifiedName } from "../identifier.ts";

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

export function archiveKeys(options: ArchiveKeysOptions): ArchiveKeys {
  const prefixSegments =
    options.policyPrefix === undefined
      ? [options.parent.schema, options.parent.name]
      : options.policyPrefix.split("/").filter((s) => s !== "");
  const directory = [...prefixSegments, options.partition.schema, options.partition.name].map(encodeKeySegment).join("/");
  return Object.freeze({ directory, data: `${directory}/data.parquet`, manifest: `${directory}/manifest.json` });
}
