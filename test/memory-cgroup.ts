/**
 * Runs a bundled Lambda handler in a child node process capped the way a Lambda function's memory
 * caps it: a cgroup v1 memory group (PLATFORM-NOTES "Verified later") with `memory.limit_in_bytes`
 * set and swap off, so going over the limit is an OOM kill (or an allocation failure inside DuckDB,
 * which honours the limit), not a slow success.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Context } from "aws-lambda";

/** Where the cgroup v1 memory controller is mounted on Linux. */
export const CGROUP_V1_MEMORY = "/sys/fs/cgroup/memory";

/** Keep in step with RESULT_PREFIX in test/lambda-runner.mjs. */
const RUNNER_RESULT_PREFIX = "@@lambda-runner-result ";
const RUNNER = path.resolve(import.meta.dirname, "lambda-runner.mjs");

/**
 * True when this machine can cap a process with a cgroup v1 memory group: the controller is mounted
 * and writable (root, not a read-only /sys/fs/cgroup). Then a test must really apply the limit.
 */
export function memoryCgroupsAvailable(): boolean {
  if (!existsSync(path.join(CGROUP_V1_MEMORY, "memory.limit_in_bytes"))) return false;
  try {
    accessSync(CGROUP_V1_MEMORY, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export interface MemoryCgroup {
  /** Absolute path of the group's directory. */
  readonly path: string;
  /** The limit the kernel reports back, bytes. */
  readonly limitBytes: number;
  /** The group's peak charge so far (`memory.max_usage_in_bytes`), bytes. */
  peakBytes(): number;
  /** OOM kills in the group so far (`oom_kill` of `memory.oom_control`; 0 where the kernel does not report it). */
  oomKills(): number;
  /** Removes the group (its processes must have exited); idempotent. */
  remove(): void;
}

/**
 * Creates a memory group limited to `limitBytes`, nested under the memory group this process runs in
 * (so its charge also counts there, as before), else at the controller's root. Swappiness 0 where
 * the file exists. Returns the reason instead when this machine has no writable cgroup v1 memory controller.
 */
export function createMemoryCgroup(limitBytes: number, name = `partkeeper-test-${randomUUID().slice(0, 8)}`): MemoryCgroup | { reason: string } {
  if (!memoryCgroupsAvailable()) {
    return { reason: `no writable cgroup v1 memory controller at ${CGROUP_V1_MEMORY} (needs Linux, root and a cgroup v1 memory mount)` };
  }
  const own = readFileSync("/proc/self/cgroup", "utf8").match(/^\d+:memory:(.*)$/m)?.[1] ?? "/";
  const ownDir = path.join(CGROUP_V1_MEMORY, own);
  const dir = path.join(existsSync(path.join(ownDir, "memory.limit_in_bytes")) ? ownDir : CGROUP_V1_MEMORY, name);
  try {
    mkdirSync(dir);
  } catch (error) {
    return { reason: `cannot create memory cgroup ${dir}: ${(error as Error).message}` };
  }
  const file = (f: string) => path.join(dir, f);
  let removed = false;
  const remove = () => {
    if (removed) return;
    // The kernel may need a moment after the last process exits before the group is empty.
    for (let attempt = 0; ; attempt++) {
      try {
        rmdirSync(dir);
        removed = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        if (attempt >= 50) throw error;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      }
    }
  };
  try {
    writeFileSync(file("memory.limit_in_bytes"), String(limitBytes));
    if (existsSync(file("memory.swappiness"))) writeFileSync(file("memory.swappiness"), "0");
    const set = Number(readFileSync(file("memory.limit_in_bytes"), "utf8").trim());
    return {
      path: dir,
      limitBytes: set,
      peakBytes: () => Number(readFileSync(file("memory.max_usage_in_bytes"), "utf8").trim()),
      oomKills: () => Number(readFileSync(file("memory.oom_control"), "utf8").match(/^oom_kill (\d+)$/m)?.[1] ?? 0),
      remove,
    };
  } catch (error) {
    remove();
    return { reason: `cannot set the limit of memory cgroup ${dir}: ${(error as Error).message}` };
  }
}

export interface HandlerRun {
  /** Exit code of the child, null when it was killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** What the runner reported: the handler's result or error; absent when the child died first (e.g. OOM kill). */
  readonly report?: {
    readonly ok: boolean;
    readonly result?: unknown;
    readonly error?: { name?: string; message: string };
    readonly durationMs: number;
    /** The child's peak resident set, KiB (getrusage). */
    readonly maxRssKb: number;
    /** The child's memory line of /proc/self/cgroup, e.g. `4:memory:/.../partkeeper-test-1a2b3c4d`. */
    readonly memoryCgroup: string | null;
  };
  /** Peak charge of the memory group over the run, bytes; null without a group. */
  readonly peakBytes: number | null;
  /** OOM kills in the group over the run; null without a group. */
  readonly oomKills: number | null;
  /** Wall time of the child process, ms (node start, bundle load, handler). */
  readonly wallMs: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunHandlerOptions {
  /** The bundled handler module (.mjs). */
  readonly bundle: string;
  readonly event: unknown;
  /** A Lambda context; its plain fields go to the child, getRemainingTimeInMillis() is read once here. */
  readonly context: Context;
  /** The child's whole environment (PATH is added from this process). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The group to run in, or null to run without a limit. Left in place: the caller removes it. */
  readonly cgroup: MemoryCgroup | null;
  /** Kill the child after this long, ms. Default 120000. */
  readonly timeoutMs?: number;
}

/**
 * Runs `bundle`'s `handler(event, context)` in a child node process (test/lambda-runner.mjs). With a
 * group, the child joins it before node starts (`sh` writes its own pid to `cgroup.procs`, then
 * execs node), so all of the process's memory, DuckDB's included, is charged against the limit.
 */
export async function runBundledHandler(options: RunHandlerOptions): Promise<HandlerRun> {
  const { getRemainingTimeInMillis, ...fields } = options.context;
  const node = [process.execPath, RUNNER, options.bundle, JSON.stringify(options.event), JSON.stringify(fields), String(getRemainingTimeInMillis())];
  const [command, args] = options.cgroup
    ? ["sh", ["-c", 'group="$1"; shift; echo $$ > "$group/cgroup.procs" && exec "$@"', "sh", options.cgroup.path, ...node]]
    : [node[0]!, node.slice(1)];
  const started = performance.now();
  const child = spawn(command, args, { env: { PATH: process.env.PATH, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (c, s) => resolve([c, s]));
  }).finally(() => clearTimeout(timer));
  const wallMs = Math.round(performance.now() - started);
  const line = stdout.split("\n").find((l) => l.startsWith(RUNNER_RESULT_PREFIX));
  return {
    code,
    signal,
    ...(line ? { report: JSON.parse(line.slice(RUNNER_RESULT_PREFIX.length)) as HandlerRun["report"] } : {}),
    peakBytes: options.cgroup ? options.cgroup.peakBytes() : null,
    oomKills: options.cgroup ? options.cgroup.oomKills() : null,
    wallMs,
    stdout,
    stderr,
  };
}
