import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { pageRangeCondition } from "../parquet/relation-summary.ts";
import { objectsSha256 } from "./manifest.ts";
import { combinePartContents, partPages, partsProgress, planPartPages, storedPartsPlan, type ArchivedPart } from "./archive-parts.ts";

const part = (n: number, digest: string, nulls: number[]): ArchivedPart => ({
  part: n,
  key: `k/data.part-000${n}.parquet`,
  rows: 10,
  bytes: 100,
  sha256: String(n).repeat(64),
  digest,
  nulls,
  keyMin: null,
  keyMax: null,
  durationMs: 5,
});

describe("archive parts", () => {
  it("plans equal page ranges from the table size, one part up to the part size", () => {
    expect(planPartPages({ pages: 100, tableBytes: 800_000 }, 4 * 1024 ** 3)).toEqual([0]);
    expect(planPartPages({ pages: 0, tableBytes: 8192 }, 1024)).toEqual([0]);
    expect(planPartPages({ pages: 100, tableBytes: 819_200 }, 300_000)).toEqual([0, 34, 68]);
    // TOAST counts: a narrow heap with wide values out of line is split too.
    expect(planPartPages({ pages: 10, tableBytes: 10_000_000 }, 4_000_000)).toEqual([0, 4, 8]);
    // Never more parts than pages.
    expect(planPartPages({ pages: 3, tableBytes: 10_000_000 }, 1000)).toEqual([0, 1, 2]);
  });

  it("leaves the last part open-ended and renders ranges as TID conditions", () => {
    const plan = { firstPages: [0, 34, 68] };
    expect(partPages(plan, 0)).toEqual({ firstPage: 0, endPage: 34 });
    expect(partPages(plan, 2)).toEqual({ firstPage: 68, endPage: null });
    expect(pageRangeCondition(partPages(plan, 1))).toBe(`ctid >= '(34,0)'::tid and ctid < '(68,0)'::tid`);
    expect(pageRangeCondition(partPages(plan, 2))).toBe(`ctid >= '(68,0)'::tid`);
    expect(() => pageRangeCondition({ firstPage: -1, endPage: null })).toThrow(/page number/);
    expect(() => pageRangeCondition({ firstPage: 5, endPage: 5 })).toThrow(/empty page range/);
  });

  it("combines the parts' content summaries: digests and NULL counts add up", () => {
    const content = combinePartContents([part(1, "18446744073709551615", [1, 0]), part(2, "5", [2, 3])], [{ name: "a" }, { name: "b" }]);
    expect(content).toEqual({
      algorithm: "row-md5-60-sum/1",
      digest: "18446744073709551620",
      columns: [{ name: "a", nulls: 3 }, { name: "b", nulls: 3 }],
    });
  });

  it("takes the manifest's sha256 over the objects' sha256 values in order", () => {
    const objects = [{ sha256: "a".repeat(64) }, { sha256: "b".repeat(64) }];
    expect(objectsSha256(objects)).toBe(createHash("sha256").update("a".repeat(64) + "b".repeat(64)).digest("hex"));
    expect(objectsSha256(objects.slice(0, 1))).toBe("a".repeat(64));
  });

  it("reads a stored plan only for its attempt", () => {
    const plan = { attempt: 2, relfilenode: "16384", pages: 100, firstPages: [0, 50], done: [part(1, "7", [0])] };
    expect(storedPartsPlan(plan, 2)).toEqual(plan);
    expect(storedPartsPlan(plan, 3)).toBeNull();
    expect(storedPartsPlan(null, 1)).toBeNull();
    expect(storedPartsPlan({ attempt: 2 }, 2)).toBeNull();
    expect(partsProgress(3, 8)).toBe("3 of 8 parts archived; continues on the next run");
  });
});
