/**
 * Reports what each job function's deployment package will weigh, the way SST builds it:
 * esbuild bundles the handler (postgres.js, AWS SDK, Powertools inlined; NATIVE_PACKAGES external),
 * then `npm install --os=linux --cpu=<cpu> --libc=glibc <native packages>` beside it.
 * Fails when the platform's native binding is missing (npm skips a missing optional dependency
 * silently) or the package exceeds Lambda's 250 MB unzipped limit.
 *
 *   npx tsx infra/scripts/bundle-report.ts [x86_64|arm64]
 *
 * Needs the npm registry; not part of .ci/check-infra.sh (which stays offline).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { JOBS } from "../../packages/core/src/jobs.ts";
import { LAMBDA_MAX_UNZIPPED_BYTES, nativeInstall } from "../lib/job-specs.ts";
import { lambdaBundleOptions } from "../lib/lambda-bundle.ts";

const root = path.resolve(import.meta.dirname, "../..");
const architecture = process.argv[2] ?? "x86_64";
const cpu = architecture === "arm64" ? "arm64" : "x64";
const install = nativeInstall(JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8")));

function sizeOf(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? sizeOf(full) : statSync(full).size;
  }
  return total;
}
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

const work = mkdtempSync(path.join(os.tmpdir(), "partkeeper-bundle-"));
let failed = false;
try {
  const native = path.join(work, "native");
  mkdirSync(native);
  writeFileSync(path.join(native, "package.json"), JSON.stringify({ name: "bundle", private: true, dependencies: install }));
  execFileSync("npm", ["install", "--omit=dev", "--no-package-lock", "--no-audit", "--no-fund", "--os=linux", `--cpu=${cpu}`, "--libc=glibc"], { cwd: native, stdio: "inherit" });
  const nativeBytes = sizeOf(path.join(native, "node_modules"));
  const binding = path.join(native, "node_modules", "@duckdb", `node-bindings-linux-${cpu}`);
  if (!existsSync(binding)) {
    console.error(`MISSING: @duckdb/node-bindings-linux-${cpu} for @duckdb/node-api@${install["@duckdb/node-api"]}: the function would fail to load DuckDB. Use another architecture or DuckDB version.`);
    failed = true;
  }
  console.log(`native dependencies (${architecture}): ${mb(nativeBytes)} ${JSON.stringify(install)}`);

  for (const job of JOBS) {
    const file = path.join(root, job.handler.replace(/\.[^.]+$/, ".ts"));
    if (!existsSync(file)) {
      console.log(`${job.name}: handler ${path.relative(root, file)} not written yet; package = native dependencies only (${mb(nativeBytes)})`);
      continue;
    }
    const out = path.join(work, job.name, "index.mjs");
    await build(lambdaBundleOptions(file, out, Object.keys(install)));
    const total = statSync(out).size + nativeBytes;
    const over = total > LAMBDA_MAX_UNZIPPED_BYTES;
    failed ||= over;
    console.log(`${job.name}: bundle ${mb(statSync(out).size)} + native ${mb(nativeBytes)} = ${mb(total)} unzipped${over ? " OVER Lambda's 250 MB" : ""}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
