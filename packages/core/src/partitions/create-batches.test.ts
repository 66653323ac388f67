import { describe, expect, it } from "vitest";
import { qualifiedName } from "../identifier.ts";
import { createDefaultPartitionAction, createPartitionAction, dropPartitionAction } from "../plan/action-factories.ts";
import type { Action } from "../plan/actions.ts";
import { createBatches, isPlainCreate } from "./create-batches.ts";

const parent = qualifiedName("Sales", 'hej"hej');
const day = (d: number, viaDefault = false) =>
  createPartitionAction({
    parent,
    partition: qualifiedName("Sales", `hej"hej_p2026_11_${String(d).padStart(2, "0")}`),
    bounds: { kind: "range", from: `2026-11-${String(d).padStart(2, "0")} 00:00:00+00`, to: `2026-11-${String(d + 1).padStart(2, "0")} 00:00:00+00` },
    viaDefault: viaDefault ? qualifiedName("Sales", 'hej"hej_default') : null,
    reason: "premake",
  });
const defaultCreate = createDefaultPartitionAction(parent, qualifiedName("Sales", 'hej"hej_default'));
const drop = dropPartitionAction({ parent, partition: qualifiedName("Sales", 'hej"hej_p2026_01_01'), reason: "expired" });
const names = (steps: ReadonlyArray<ReadonlyArray<Action>>) => steps.map((s) => s.map((a) => a.partition.name.replace('hej"hej_', "")));

describe("createBatches", () => {
  it("puts consecutive plain creates together, at most perTransaction each, the default partition with them", () => {
    expect(names(createBatches([day(1), day(2), day(3), day(4), day(5), defaultCreate], 2))).toEqual([
      ["p2026_11_01", "p2026_11_02"],
      ["p2026_11_03", "p2026_11_04"],
      ["p2026_11_05", "default"],
    ]);
    expect(names(createBatches([day(1), day(2), defaultCreate], 16))).toEqual([["p2026_11_01", "p2026_11_02", "default"]]);
  });

  it("keeps a create that moves rows out of the default partition, and every other action, alone", () => {
    expect(names(createBatches([day(1), day(2), day(3, true), day(4), day(5), drop], 8))).toEqual([
      ["p2026_11_01", "p2026_11_02"],
      ["p2026_11_03"],
      ["p2026_11_04", "p2026_11_05"],
      ["p2026_01_01"],
    ]);
    expect(names(createBatches([day(1, true), day(2, true)], 8))).toEqual([["p2026_11_01"], ["p2026_11_02"]]);
  });

  it("keeps every action, in order, once; one per transaction when the budget allows one", () => {
    const actions = [day(1), day(2, true), day(3), defaultCreate, drop];
    expect(createBatches(actions, 1).flat()).toEqual(actions);
    expect(createBatches(actions, 1).every((s) => s.length === 1)).toBe(true);
    expect(createBatches([], 4)).toEqual([]);
  });

  it("tells plain creates from the rest", () => {
    expect([day(1), day(1, true), defaultCreate, drop].map(isPlainCreate)).toEqual([true, false, true, false]);
  });
});
