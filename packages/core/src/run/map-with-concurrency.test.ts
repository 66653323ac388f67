import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { mapWithConcurrency } from "./map-with-concurrency.ts";

/** Work that records how many calls are in flight and finishes after `ms[item]`. */
function tracked(ms: ReadonlyArray<number>) {
  const events: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const work = async (item: number, index: number) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    events.push(`start ${index}`);
    await sleep(ms[item]!);
    events.push(`end ${index}`);
    inFlight--;
    return item * 10;
  };
  return { work, events, maxInFlight: () => maxInFlight };
}

describe("mapWithConcurrency", () => {
  it("returns results in item order, not in finishing order, with at most `limit` calls in flight", async () => {
    const items = [0, 1, 2, 3, 4];
    const t = tracked([40, 5, 20, 1, 10]);
    expect(await mapWithConcurrency(items, 2, t.work)).toEqual([0, 10, 20, 30, 40]);
    expect(t.maxInFlight()).toBe(2);
    expect(t.events.filter((e) => e.startsWith("start"))).toEqual(["start 0", "start 1", "start 2", "start 3", "start 4"]);
    expect(t.events.indexOf("end 1")).toBeLessThan(t.events.indexOf("end 0"));
  });

  it("at limit 1 runs one call after another", async () => {
    const t = tracked([5, 1, 3]);
    expect(await mapWithConcurrency([0, 1, 2], 1, t.work)).toEqual([0, 10, 20]);
    expect(t.events).toEqual(["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]);
  });

  it("starts no more calls than items, and handles no items", async () => {
    const t = tracked([1, 1]);
    expect(await mapWithConcurrency([0, 1], 8, t.work)).toEqual([0, 10]);
    expect(t.maxInFlight()).toBe(2);
    expect(await mapWithConcurrency([], 4, t.work)).toEqual([]);
  });

  it("on a thrown error starts nothing more, waits for the calls in flight, and throws the first error", async () => {
    const started: number[] = [];
    let finished = 0;
    const work = async (item: number) => {
      started.push(item);
      if (item === 1) throw new Error("boom 1");
      await sleep(10);
      finished++;
      return item;
    };
    await expect(mapWithConcurrency([0, 1, 2, 3, 4], 2, work)).rejects.toThrow("boom 1");
    // Item 1 throws at once; item 0, in flight, is awaited; nothing starts after the error.
    expect(started).toEqual([0, 1]);
    expect(finished).toBe(1);
  });

  it("refuses a limit that is not a whole number of at least 1", async () => {
    await expect(mapWithConcurrency([1], 0, async (x) => x)).rejects.toThrow(RangeError);
    await expect(mapWithConcurrency([1], 1.5, async (x) => x)).rejects.toThrow("whole number of at least 1, got 1.5");
  });
});
