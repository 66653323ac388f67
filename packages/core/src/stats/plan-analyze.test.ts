import { describe, expect, it } from "vitest";
import { qualifiedName } from "../identifier.ts";
import { planAnalyze, type AnalyzePlanInput } from "./plan-analyze.ts";

const now = new Date("2026-11-21T12:00:00Z");
const q = (name: string) => qualifiedName("public", name);
const base: AnalyzePlanInput = {
  parents: [],
  partitions: [],
  now,
  settings: { parents: true, parentsEvery: { days: 1 }, partitions: true },
  threshold: { base: 50, scale: 0.1 },
  parentCoversPartitions: false,
};
const names = (input: Partial<AnalyzePlanInput>) => planAnalyze({ ...base, ...input }).map((t) => `${t.kind} ${t.relation.name}`);

describe("planAnalyze", () => {
  it("analyzes a parent never analyzed, or last analyzed parentsEvery ago or longer; not one analyzed since", () => {
    const parents = [
      { parent: q("never"), lastAnalyzed: null },
      { parent: q("day_ago"), lastAnalyzed: new Date("2026-11-20T12:00:00Z") },
      { parent: q("hour_ago"), lastAnalyzed: new Date("2026-11-21T11:00:00Z") },
    ];
    expect(names({ parents })).toEqual(["parent never", "parent day_ago"]);
    expect(names({ parents, settings: { ...base.settings, parents: false } })).toEqual([]);
  });

  it("analyzes partitions never analyzed, then those changed past autovacuum's threshold, most changed first", () => {
    const analyzed = new Date("2026-11-20T00:00:00Z");
    const partitions = [
      { parent: q("p"), partition: q("quiet"), lastAnalyzed: analyzed, modifiedSinceAnalyze: 150, reltuples: 1000 }, // threshold 150: not past it
      { parent: q("p"), partition: q("busy"), lastAnalyzed: analyzed, modifiedSinceAnalyze: 151, reltuples: 1000 },
      { parent: q("p"), partition: q("busier"), lastAnalyzed: analyzed, modifiedSinceAnalyze: 5000, reltuples: 1000 },
      { parent: q("p"), partition: q("new_empty"), lastAnalyzed: null, modifiedSinceAnalyze: 0, reltuples: -1 },
      { parent: q("p"), partition: q("restored"), lastAnalyzed: null, modifiedSinceAnalyze: 100_000, reltuples: -1 },
    ];
    expect(names({ partitions, parents: [{ parent: q("p"), lastAnalyzed: null }] })).toEqual([
      "parent p",
      "partition new_empty",
      "partition restored",
      "partition busier",
      "partition busy",
    ]);
    expect(names({ partitions, settings: { ...base.settings, partitions: false } })).toEqual([]);
  });

  it("before PostgreSQL 18 leaves out partitions of a parent it analyzes (ANALYZE of the parent covers them)", () => {
    const partitions = [
      { parent: q("p"), partition: q("p_1"), lastAnalyzed: null, modifiedSinceAnalyze: 0, reltuples: -1 },
      { parent: q("other"), partition: q("other_1"), lastAnalyzed: null, modifiedSinceAnalyze: 0, reltuples: -1 },
    ];
    const parents = [{ parent: q("p"), lastAnalyzed: null }];
    expect(names({ parents, partitions, parentCoversPartitions: true })).toEqual(["parent p", "partition other_1"]);
    expect(names({ parents, partitions })).toEqual(["parent p", "partition p_1", "partition other_1"]);
  });

  it("treats a never-analyzed table's reltuples (-1) as 0 rows for the threshold", () => {
    const partitions = [{ parent: q("p"), partition: q("vacuumed_only"), lastAnalyzed: new Date("2026-11-01T00:00:00Z"), modifiedSinceAnalyze: 51, reltuples: -1 }];
    expect(names({ partitions })).toEqual(["partition vacuumed_only"]);
  });
});
