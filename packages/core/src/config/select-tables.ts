import { ConfigError } from "../errors.ts";
import { displayName, sameName, type QualifiedName } from "../identifier.ts";
import type { Config, TablePolicy } from "./schema.ts";

/** How many configured parents an error lists before `and N more`. */
const SHOWN_PARENTS = 10;

/**
 * The table policies a run or a status report covers, in config order: every table in `config`,
 * or only those named in `only` (the CLI's `--table`, a Lambda event's `tables`).
 *
 * @throws ConfigError naming every entry of `only` that is not a table in the config, and the
 *   parents that are: a typo must not run nothing and report success.
 */
export function selectTables(config: Config, only?: ReadonlyArray<QualifiedName>): TablePolicy[] {
  if (!only) return [...config.tables];
  const unknown = only.filter((q) => !config.tables.some((t) => sameName(t.parent, q)));
  if (unknown.length) {
    const configured = config.tables.map((t) => displayName(t.parent));
    const shown = configured.slice(0, SHOWN_PARENTS).join(", ");
    const more = configured.length > SHOWN_PARENTS ? ` and ${configured.length - SHOWN_PARENTS} more` : "";
    throw new ConfigError(
      `${unknown.map(displayName).join(", ")} ${unknown.length === 1 ? "is not a table" : "are not tables"} in the config: ` +
        `name a configured parent as schema.table, exactly as configured (case-sensitive), or add it to the config's tables; ` +
        `configured: ${shown}${more}`,
    );
  }
  return config.tables.filter((t) => only.some((q) => sameName(t.parent, q)));
}

/** The policy of `parent`, or undefined when the config does not list it. */
export function findPolicy(config: Config, parent: QualifiedName): TablePolicy | undefined {
  return config.tables.find((t) => sameName(t.parent, parent));
}

/** The `archive.prefix` of `policy` (undefined when it has none, or no policy: the default prefix). */
export function archivePrefixOf(policy: TablePolicy | undefined): string | undefined {
  return policy && "archive" in policy ? policy.archive.prefix : undefined;
}
