import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { z } from "zod";
import { ConfigError } from "../errors.ts";
import { configSchema, type Config } from "./schema.ts";

/**
 * Validates a config object, after replacing its `archive.location` with `archiveLocation` when
 * given (the CLI's --archive, the Lambda's PARTKEEPER_ARCHIVE). Throws ConfigError whose message
 * lists each problem as `<field path>: <problem>`, e.g. `tables.0.premake: must be 0 or more`;
 * nothing else runs first.
 */
export function parseConfig(input: unknown, source = "config", archiveLocation?: string): Config {
  // Only the location is replaced: the rest of `archive` (partSize, parquetVersion) is the config's.
  const withLocation = archiveLocation && input && typeof input === "object" ? { ...input, archive: { ...archiveOf(input), location: archiveLocation } } : input;
  const result = configSchema.safeParse(withLocation);
  if (!result.success) throw new ConfigError(`${source} is invalid:\n${formatIssues(result.error)}`);
  const config = result.data;
  const archiving = config.tables.findIndex((t) => "retention" in t && t.retention !== undefined && t.archive.enabled);
  if (archiving >= 0 && !config.archive) {
    throw new ConfigError(
      `${source} is invalid:\n  archive.location: is required because tables.${archiving} archives expired partitions (or set archive.enabled false)`,
    );
  }
  return config;
}

/** The input's `archive` object when it is one (anything else is left to the schema to report by replacing it). */
function archiveOf(input: object): object {
  const archive = (input as { archive?: unknown }).archive;
  return archive && typeof archive === "object" && !Array.isArray(archive) ? archive : {};
}

/** One line per issue, `  <path>: <message>`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `  ${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`).join("\n");
}

export interface LoadConfigOptions {
  /** Replaces `archive.location` (the CLI's --archive). */
  readonly archiveLocation?: string;
  /**
   * Imports a `.ts`/`.js` config module by file URL. Default: `import()`, enough for JavaScript;
   * the CLI passes tsx's `tsImport` so TypeScript configs load anywhere.
   */
  readonly importModule?: (url: string) => Promise<unknown>;
}

/**
 * Loads `partkeeper.config.json`, or the default export of a `.ts`/`.js`/`.mjs` file, and validates it.
 * Throws ConfigError when the file cannot be read or parsed, or fails validation.
 */
export async function loadConfig(file: string, overrides: LoadConfigOptions = {}): Promise<Config> {
  const absolute = path.resolve(file);
  let raw: unknown;
  try {
    if (absolute.endsWith(".json")) {
      raw = JSON.parse(await readFile(absolute, "utf8"));
    } else {
      const importModule = overrides.importModule ?? ((url: string) => import(url));
      raw = defaultExport(await importModule(pathToFileURL(absolute).href));
    }
  } catch (cause) {
    throw new ConfigError(`cannot read config ${file}: ${(cause as Error).message}`, { cause });
  }
  return parseConfig(raw, file, overrides.archiveLocation);
}

/** A module's default export; unwraps the extra `{ default }` layer of a CommonJS-compiled module. */
function defaultExport(module: unknown): unknown {
  const value = (module as { default?: unknown }).default;
  if (value && typeof value === "object" && Object.keys(value).length === 1 && "default" in value) {
    return (value as { default: unknown }).default;
  }
  return value;
}
