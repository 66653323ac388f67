import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import type { Context } from "aws-lambda";
import { afterEach, vi } from "vitest";

const BIN = path.resolve(import.meta.dirname, "../packages/cli/bin/partkeeper.js");

/** Runs the real `partkeeper` binary as a user would; returns its exit code and output. */
export async function runCli(args: string[], env: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env, NODE_NO_WARNINGS: "1" },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * Runs the real `partkeeper` binary in a pseudo-terminal, as from an operator's shell: script(1) makes
 * its stdout and stderr a TTY (both arrive in `stdout`, lines ending in `\r\n`). Linux util-linux `script`.
 */
export async function runCliInTerminal(args: string[], env: Record<string, string | undefined>): Promise<{ stdout: string }> {
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(" ");
  return promisify(execFile)("script", ["-qec", command, "/dev/null"], { env: { ...process.env, ...env, NODE_NO_WARNINGS: "1" } });
}

/** The parts of a Lambda context the door uses. */
export function lambdaContext(functionName: string): Context {
  return {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: "req-1",
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "stream",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 600_000,
  } as Context;
}

/**
 * Invokes a Lambda handler as the Lambda runtime would, with stdout and stderr captured; returns
 * its result (or error) and every JSON line it wrote (Powertools logs and EMF documents).
 */
export async function invokeHandler<R>(
  handler: (event: unknown, context: Context) => Promise<R>,
  event: unknown,
): Promise<{ result?: R; error?: Error; lines: Array<Record<string, unknown>> }> {
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, "write").mockImplementation(capture);
  const err = vi.spyOn(process.stderr, "write").mockImplementation(capture);
  const lines = () =>
    written
      .join("")
      .split("\n")
      .filter((l) => l.trim().startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  try {
    return { result: await handler(event, lambdaContext("partkeeper-test")), lines: lines() };
  } catch (error) {
    return { error: error as Error, lines: lines() };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/**
 * Returns `configure(url, config)`, which sets the environment a deployed function gets
 * (DATABASE_URL, PARTKEEPER_CONFIG, POWERTOOLS_METRICS_NAMESPACE); the environment is restored after
 * each test of the calling describe block.
 */
export function useLambdaEnvironment(): (databaseUrl: string, config: unknown) => void {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });
  return (databaseUrl, config) => {
    process.env.DATABASE_URL = databaseUrl;
    process.env.POWERTOOLS_METRICS_NAMESPACE = "partkeeper-test";
    process.env.PARTKEEPER_CONFIG = JSON.stringify(config);
  };
}
