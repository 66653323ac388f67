import { setTimeout as sleep } from "node:timers/promises";
import { createClient, type Sql } from "@partkeeper/core";

/** One write of the application and how long it took (performance.now() ms). */
export interface Write {
  readonly start: number;
  readonly ms: number;
}

/**
 * The application beside a bench: `writers` connections, each looping `write(app, writer, i)`
 * (autocommit or its own transaction), one every `intervalMs` at most, until `stop()`. Failed
 * writes are counted, never thrown: a bench reports them.
 */
export function startWriters(url: string, options: { writers: number; intervalMs: number; write: (app: Sql, writer: number, i: number) => Promise<unknown> }) {
  const app = createClient(url, { max: options.writers });
  const writes: Write[] = [];
  let failed = 0;
  let stopping = false;
  const loop = async (w: number) => {
    for (let i = 0; !stopping; i++) {
      const start = performance.now();
      try {
        await options.write(app, w, i);
        writes.push({ start, ms: performance.now() - start });
      } catch {
        failed++;
      }
      const wait = options.intervalMs - (performance.now() - start);
      if (wait > 0) await sleep(wait);
    }
  };
  const loops = Array.from({ length: options.writers }, (_, w) => loop(w));
  return {
    writes,
    failed: () => failed,
    async stop() {
      stopping = true;
      await Promise.all(loops);
      await app.end({ timeout: 5 });
    },
  };
}

/** Writes started in [from, to): count, per second, p50 / p99 / max latency (ms). */
export function latencies(writes: ReadonlyArray<Write>, from: number, to: number) {
  const ms = writes.filter((w) => w.start >= from && w.start < to).map((w) => w.ms).sort((a, b) => a - b);
  const q = (p: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]! : NaN);
  return { count: ms.length, perSecond: (ms.length / (to - from)) * 1000, p50: q(0.5), p99: q(0.99), max: ms.at(-1) ?? NaN };
}
