/**
 * How a job's handler is bundled for Lambda, the way SST's `sst.aws.Function` (nodejs, `format: "esm"`)
 * bundles it: one ESM file with postgres.js, the AWS SDK and Powertools inlined, NATIVE_PACKAGES left
 * external (SST npm-installs them beside the bundle), and a `require` for the CommonJS code inside.
 * Used by infra/scripts/bundle-report.ts (package size) and test/lambda-memory-limit.test.ts (the
 * bundle run under the function's memory). PURE: returns esbuild options, builds nothing.
 */
import type { BuildOptions } from "esbuild";
import { NATIVE_PACKAGES } from "./job-specs.ts";

/** The Lambda runtime infra/jobs.ts deploys (`nodejs22.x`), as an esbuild target. */
export const LAMBDA_NODE_TARGET = "node22";

/** SST's banner for ESM bundles: bundled CommonJS packages call `require`, which ESM does not define. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as topLevelCreateRequire } from 'module';const require = topLevelCreateRequire(import.meta.url);";

/**
 * esbuild options for one handler: `entry` (a packages/functions/src/*.ts file) to `outfile` (.mjs).
 * `external`: packages installed beside the bundle rather than inlined (default NATIVE_PACKAGES).
 */
export function lambdaBundleOptions(entry: string, outfile: string, external: ReadonlyArray<string> = NATIVE_PACKAGES): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: LAMBDA_NODE_TARGET,
    format: "esm",
    minify: true,
    external: [...external],
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: "warning",
  };
}
