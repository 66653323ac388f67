import { ConfigError } from "../errors.ts";

/** An archive location split into its parts. `prefix` has no leading or trailing slash; may be "". */
export interface ArchiveLocation {
  readonly bucket: string;
  readonly prefix: string;
}

/** S3 bucket naming rules (AWS "Bucket naming rules"): 3-63 chars, lower-case letters, digits, dots, hyphens. */
const LOCATION = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

/**
 * Parses `s3://bucket/some/prefix` into `{ bucket: "bucket", prefix: "some/prefix" }`.
 * Surrounding slashes of the prefix are dropped (`s3://b/p/` and `s3://b/p` are the same location).
 * @throws ConfigError when the text is not an `s3://` URL with a valid bucket name or the prefix has empty segments.
 */
export function parseArchiveLocation(location: string): ArchiveLocation {
  const match = LOCATION.exec(location);
  if (!match) {
    throw new ConfigError(
      `archive location ${JSON.stringify(location)} is not valid: use s3://bucket/prefix ` +
        "(bucket: 3-63 lower-case letters, digits, dots or hyphens)",
    );
  }
  const prefix = (match[2] ?? "").replace(/^\/+|\/+$/g, "");
  if (prefix.split("/").some((segment, _i, all) => segment === "" && all.length > 1)) {
    throw new ConfigError(`archive location ${JSON.stringify(location)} has an empty path segment ("//"): remove it`);
  }
  return Object.freeze({ bucket: match[1]!, prefix });
}
