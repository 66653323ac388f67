/**
 * Runs one bundled Lambda handler in this process, as the Lambda runtime would, and prints the outcome
 * as the last stdout line: `RESULT_PREFIX {"ok":true,"result":...}` or `{"ok":false,"error":...}`
 * (the handler's own JSON log lines come before it). Exit code 0 when the handler returned, 1 when it threw.
 *
 *   node test/lambda-runner.mjs <bundle.mjs> <event JSON> <context JSON> <remaining ms>
 *
 * The context JSON holds the plain fields of a Lambda context (memoryLimitInMB, functionName, ...);
 * `getRemainingTimeInMillis` counts down from <remaining ms>. Used by test/memory-cgroup.ts.
 * Plain .mjs so that it runs on node without a TypeScript loader, next to the bundle.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

/** Keep in step with RUNNER_RESULT_PREFIX in test/memory-cgroup.ts. */
const RESULT_PREFIX = "@@lambda-runner-result ";

const [bundle, eventJson, contextJson, remainingMs] = process.argv.slice(2);
if (!bundle || !eventJson || !contextJson || !remainingMs) {
  console.error("usage: node lambda-runner.mjs <bundle.mjs> <event JSON> <context JSON> <remaining ms>");
  process.exit(2);
}

const deadline = Date.now() + Number(remainingMs);
const context = { ...JSON.parse(contextJson), getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
// The memory cgroup this process runs in, as the kernel sees it (proves where the limit applied).
const memoryCgroup = readFileSync("/proc/self/cgroup", "utf8").split("\n").find((line) => /^\d+:memory:/.test(line)) ?? null;

const started = performance.now();
let outcome;
try {
  const { handler } = await import(pathToFileURL(bundle).href);
  outcome = { ok: true, result: await handler(JSON.parse(eventJson), context) };
} catch (error) {
  outcome = { ok: false, error: { name: error?.name, message: error?.message ?? String(error) } };
}
const report = { ...outcome, durationMs: Math.round(performance.now() - started), maxRssKb: process.resourceUsage().maxRSS, memoryCgroup };
process.stdout.write(`\n${RESULT_PREFIX}${JSON.stringify(report)}\n`, () => process.exit(outcome.ok ? 0 : 1));
