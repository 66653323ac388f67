// @ts-check
/**
 * Builds the `partkeeper` CLI into packages/cli/dist: esbuild bundles src/main.ts with
 * @partkeeper/core, the demo's example modules and the pure-JavaScript dependencies into one file,
 * dist/partkeeper.js, so the bin starts compiled JavaScript instead of loading TypeScript through
 * tsx at run time (about 0.2 s instead of 0.8-1 s; docs/figures.md "CLI start").
 *
 *   node packages/cli/scripts/build.mjs      (also `npm run build`, and npm's prepare after npm ci)
 *
 * The bin (bin/partkeeper.js) calls `compiledCli()`: when an input changed since the build (the
 * size or mtime of any file esbuild read, recorded in dist/build.json), it rebuilds first, so a
 * checkout never runs stale code. The bundle is written to a temporary name and renamed, so
 * concurrent CLI runs (the test suite) never see half a build.
 *
 * Tests and the Lambda functions do not use this: vitest imports the TypeScript sources, SST
 * bundles packages/functions itself.
 */
import { builtinModules } from "node:module";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const CLI_DIR = path.resolve(import.meta.dirname, "..");
const ROOT = path.resolve(CLI_DIR, "../..");
const DIST = path.join(CLI_DIR, "dist");
const ENTRY = path.join(DIST, "partkeeper.js");
const STAMP = path.join(DIST, "build.json");

/**
 * Packages left to Node's resolver at run time; the rest (commander, zod, luxon, postgres.js,
 * cli-progress) is bundled, which starts in about half the time of importing them from
 * node_modules (docs/figures.md "CLI start"). Left out, each loaded with `import()` only where it is
 * needed, so none costs start time: DuckDB's native binding (archive, restore), the AWS SDK (the S3
 * store's first request), tsx (a .ts or .js config) and s3rver (the demo). `build` refuses a
 * static import of any of them: esbuild hoists it to the top of the bundle, loaded on every start.
 */
const EXTERNAL = ["@duckdb/node-api", "@aws-sdk/*", "tsx", "tsx/*", "s3rver"];

/**
 * esbuild plugin: in partkeeper's own modules, `import.meta.url` (and `.dirname`, `.filename`) keep
 * meaning the module's source file, not the bundle, as when tsx runs them: the demo's seed reads
 * `new URL("./legacy-schema.sql", import.meta.url)` beside examples/record-history/seed.ts. The
 * source's path is written relative to the bundle, so the checkout may move.
 * @type {import("esbuild").Plugin}
 */
const sourceImportMeta = {
  name: "source-import-meta",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const source = await readFile(args.path, "utf8");
      if (!source.includes("import.meta.")) return undefined;
      const url = `new URL(${JSON.stringify(path.relative(DIST, args.path).split(path.sep).join("/"))}, import.meta.url)`;
      const contents = source
        .replaceAll("import.meta.url", `${url}.href`)
        .replaceAll("import.meta.filename", `__pkFileURLToPath(${url})`)
        .replaceAll("import.meta.dirname", `__pkPath.dirname(__pkFileURLToPath(${url}))`);
      return { contents, loader: "ts" };
    });
  },
};

/** Files whose change needs a rebuild besides the ones esbuild reads: this script and the manifests. */
const EXTRA_INPUTS = ["packages/cli/scripts/build.mjs", "packages/cli/package.json", "packages/core/package.json", "package-lock.json"];

/**
 * @typedef {{ builtAt: number, esbuild: string, inputs: Record<string, [size: number, mtimeMs: number]> }} Stamp
 */

/**
 * Why dist/ needs a (re)build, or null when it is current: "not built yet" or "<file> changed".
 * Costs one stat per input (about 130 files, a few ms).
 * @returns {string | null}
 */
export function staleReason() {
  /** @type {Stamp} */
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, "utf8"));
    statSync(ENTRY);
  } catch {
    return "not built yet";
  }
  for (const [file, [size, mtimeMs]] of Object.entries(stamp.inputs)) {
    let now;
    try {
      now = statSync(path.join(ROOT, file));
    } catch {
      return `${file} was removed`;
    }
    if (now.size !== size || now.mtimeMs !== mtimeMs) return `${file} changed`;
  }
  return null;
}

/**
 * Bundles the CLI into dist/ and records its inputs in dist/build.json.
 * @returns {Promise<{ inputs: number, bytes: number, ms: number }>}
 * @throws the esbuild error (with file and line) when a source does not compile; an Error naming
 *   the packages when the bundle would import an external package at start.
 */
export async function build() {
  const started = Date.now();
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [path.join(CLI_DIR, "src/main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20.19",
    outfile: ENTRY,
    external: EXTERNAL,
    // CommonJS dependencies bundled into ESM call require() for Node's built-in modules; the other
    // two serve sourceImportMeta.
    banner: {
      js: [
        'import { createRequire as __pkCreateRequire } from "node:module";',
        'import __pkPath from "node:path";',
        'import { fileURLToPath as __pkFileURLToPath } from "node:url";',
        "const require = __pkCreateRequire(import.meta.url);",
      ].join("\n"),
    },
    plugins: [sourceImportMeta],
    legalComments: "none",
    metafile: true,
    write: false,
    logLevel: "silent",
  });

  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const eager = Object.values(result.metafile.outputs)
    .flatMap((output) => output.imports)
    .filter((i) => i.external && i.kind !== "dynamic-import" && !builtins.has(i.path))
    .map((i) => i.path);
  if (eager.length > 0) {
    throw new Error(
      `the CLI bundle would load ${[...new Set(eager)].join(", ")} at every start (a static import of an external package): ` +
        "import it with `await import(...)` where it is needed",
    );
  }

  mkdirSync(DIST, { recursive: true });
  const writeAtomically = (/** @type {string} */ file, /** @type {Uint8Array | string} */ contents) => {
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, contents);
    renameSync(temp, file);
  };
  const [bundle] = result.outputFiles;
  if (bundle === undefined) throw new Error("esbuild wrote no bundle");
  writeAtomically(ENTRY, bundle.contents);

  /** @type {Stamp["inputs"]} */
  const inputs = {};
  const extra = EXTRA_INPUTS.filter((file) => statSync(path.join(ROOT, file), { throwIfNoEntry: false }) !== undefined);
  for (const file of [...Object.keys(result.metafile.inputs), ...extra]) {
    if (file.includes("node_modules/")) continue; // covered by package-lock.json
    const { size, mtimeMs } = statSync(path.join(ROOT, file));
    // Changed while esbuild ran: record an impossible mtime so the next start rebuilds.
    inputs[file] = [size, mtimeMs > started ? -1 : mtimeMs];
  }
  writeAtomically(STAMP, `${JSON.stringify({ builtAt: started, esbuild: esbuild.version, inputs }, null, 1)}\n`);
  return { inputs: Object.keys(inputs).length, bytes: bundle.contents.length, ms: Date.now() - started };
}

/**
 * The URL of the compiled CLI, rebuilt first when missing or stale.
 * @returns {Promise<string>}
 * @throws Error saying how to build when the rebuild fails (e.g. esbuild not installed).
 */
export async function compiledCli() {
  const reason = staleReason();
  if (reason !== null) {
    try {
      await build();
    } catch (error) {
      const noEsbuild = /** @type {{ code?: string }} */ (error).code === "ERR_MODULE_NOT_FOUND";
      const detail = error instanceof Error ? error.message.split("\n").slice(0, 12).join("\n") : String(error);
      const next = noEsbuild
        ? "Install the dev dependencies with `npm ci` in the repository (it builds the CLI too), or build it with `npm run build`."
        : "Fix the error above and run the command again, or build the CLI with `npm run build`.";
      throw new Error(`the compiled CLI in ${path.relative(process.cwd(), DIST) || DIST} is ${reason === "not built yet" ? "missing" : `out of date (${reason})`} and building it failed:\n${detail}\n${next}`, {
        cause: error,
      });
    }
  }
  return pathToFileURL(ENTRY).href;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { inputs, bytes, ms } = await build();
    process.stdout.write(`partkeeper CLI built: ${path.relative(process.cwd(), ENTRY)} (${inputs} inputs, ${(bytes / 1024).toFixed(0)} KiB) in ${ms} ms\n`);
  } catch (error) {
    process.stderr.write(`partkeeper CLI build failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
