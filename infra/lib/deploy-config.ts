/**
 * Values the functions receive, checked at deploy time so a bad config fails `sst deploy`, not the
 * first scheduled run. PURE (core's config parser only): no `sst`/Pulumi imports.
 */
import { parseConfig } from "../../packages/core/src/config/load-config.ts";
import { minPremake } from "./alarm-specs.ts";

/** `s3://<bucket>/<prefix>` without the trailing slash: PARTKEEPER_ARCHIVE. */
export function archiveUrl(bucketName: string, prefix: string): string {
  return `s3://${bucketName}/${prefix.replace(/\/+$/, "")}`;
}

export interface PreparedConfig {
  /** The config JSON, minified, for PARTKEEPER_CONFIG. */
  readonly json: string;
  /** Threshold of the PartitionsAheadMin alarm. */
  readonly minPremake: number;
}

/**
 * Parses and validates the PartkeeperConfig secret with core's zod schema, the archive location set
 * to this stage's bucket (as the handlers do with PARTKEEPER_ARCHIVE). Throws with every problem listed.
 */
export function prepareConfig(text: string, archive: string): PreparedConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new Error(`the PartkeeperConfig secret is not JSON (${(cause as Error).message}); set it with: npx sst secret set PartkeeperConfig "$(cat partkeeper.config.json)" --stage <stage>`, { cause });
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error("the PartkeeperConfig secret must be a JSON object");
  const config = parseConfig(raw, "PartkeeperConfig secret", archive);
  return { json: JSON.stringify(raw), minPremake: minPremake(config.tables) };
}

/** postgres:// URL for a database this app created; user and password are URL-encoded. */
export function postgresUrl(db: { username: string; password: string; host: string; port: number; database: string }): string {
  const user = encodeURIComponent(db.username);
  const password = encodeURIComponent(db.password);
  return `postgres://${user}:${password}@${db.host}:${db.port}/${encodeURIComponent(db.database)}?sslmode=require`;
}
