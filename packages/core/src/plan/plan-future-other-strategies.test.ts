import { describe, expect, test } from "vitest";
import { planFuturePartitions } from "./plan-future-partitions.ts";
import { at, defaultPartition, describeCreates, parent, partition, planChecked, policy, range, type ParentOptions } from "./test-fixtures.ts";

const now = at("2024-06-01T00:00:00Z");

function planInteger(step: number, premake: number, options: ParentOptions, retention?: number): string[] {
  const p = policy({ table: "events", strategy: "range-integer", step, premake, retention, defaultPartition: false });
  return describeCreates(planFuturePartitions(p, parent({ keyType: "bigint", ...options }), now));
}

describe("range-integer", () => {
  test("current slot holds maxKey, premake slots above it", () => {
    expect(planInteger(1000, 2, { maxKey: "2500" })).toEqual([
      "events_p2000 2000..3000 current",
      "events_p3000 3000..4000 premake",
      "events_p4000 4000..5000 premake",
    ]);
  });

  test("empty table without partitions: the slot starting at 0", () => {
    expect(planInteger(1000, 1, { maxKey: null })).toEqual(["events_p0 0..1000 current", "events_p1000 1000..2000 premake"]);
  });

  test("empty table with partitions: from the lowest existing bound's slot", () => {
    expect(planInteger(1000, 1, { maxKey: null, partitions: [range("events_p5000", "5000", "6000")] })).toEqual([
      "events_p6000 6000..7000 premake",
    ]);
  });

  test("gaps between the lowest partition and the current slot", () => {
    expect(planInteger(1000, 1, { maxKey: "3999", partitions: [range("events_p0", "0", "1000"), range("events_p2000", "2000", "3000")] })).toEqual([
      "events_p1000 1000..2000 gap",
      "events_p3000 3000..4000 current",
      "events_p4000 4000..5000 premake",
    ]);
  });

  test("gaps at or below maxKey - retention are not created", () => {
    expect(planInteger(1000, 0, { maxKey: "5500", partitions: [range("events_p0", "0", "1000")] }, 2000)).toEqual([
      "events_p3000 3000..4000 gap",
      "events_p4000 4000..5000 gap",
      "events_p5000 5000..6000 current",
    ]);
  });

  test("negative keys: floor division and _pm names", () => {
    expect(planInteger(1000, 2, { maxKey: "-1500" })).toEqual([
      "events_pm2000 -2000..-1000 current",
      "events_pm1000 -1000..0 premake",
      "events_p0 0..1000 premake",
    ]);
    expect(planInteger(1000, 0, { maxKey: "-1000" })).toEqual(["events_pm1000 -1000..0 current"]);
  });

  test("bigint keys above 2^53 stay exact", () => {
    expect(planInteger(10, 1, { maxKey: "9007199254740993" })).toEqual([
      "events_p9007199254740990 9007199254740990..9007199254741000 current",
      "events_p9007199254741000 9007199254741000..9007199254741010 premake",
    ]);
    expect(planInteger(1000, 0, { maxKey: "9223372036854775807" })).toEqual([
      "events_p9223372036854775000 9223372036854775000..MAXVALUE current",
    ]);
  });

  test("smallint: no slot beyond the type, the last one ends at MAXVALUE", () => {
    expect(planInteger(10000, 3, { keyType: "smallint", maxKey: "20000" })).toEqual([
      "events_p20000 20000..30000 current",
      "events_p30000 30000..MAXVALUE premake",
    ]);
    expect(planInteger(10000, 0, { keyType: "smallint", maxKey: "-32768" })).toEqual(["events_pm40000 MINVALUE..-30000 current"]);
  });

  test("unaligned integer partitions: only the uncovered pieces", () => {
    expect(planInteger(1000, 0, { maxKey: "1200", partitions: [range("events_a", "1000", "1100"), range("events_b", "1500", "1600")] })).toEqual([
      "events_p1100 1100..1500 current",
      "events_p1600 1600..2000 current",
    ]);
  });

  test("MINVALUE/MAXVALUE integer partitions", () => {
    expect(planInteger(1000, 3, { maxKey: "500", partitions: [range("events_low", "MINVALUE", "0"), range("events_high", "2000", "MAXVALUE")] })).toEqual([
      "events_p0 0..1000 current",
      "events_p1000 1000..2000 premake",
    ]);
  });

  test("a maxKey that is not an integer is refused", () => {
    expect(() => planInteger(1000, 0, { maxKey: "12.5" })).toThrow(/max\(partition key\) "12.5" is not an integer/);
  });
});

describe("list", () => {
  test("each configured value in no list partition gets _p_<value>, in config order, default last", () => {
    const p = policy({ table: "Posts", strategy: "list", values: ["eu", "us", 7, "São Paulo", 'it"s'] });
    const actions = planFuturePartitions(
      p,
      parent({ name: "Posts", method: "list", keyType: "text", partitions: [partition("Posts_p_us", { kind: "list", values: ["us", null] })] }),
      now,
    );
    expect(actions).toEqual([
      {
        kind: "create-partition",
        parent: { schema: "public", name: "Posts" },
        partition: { schema: "public", name: "Posts_p_eu" },
        bounds: { kind: "list", values: ["eu"] },
        viaDefault: null,
        reason: "list value",
      },
      expect.objectContaining({ partition: { schema: "public", name: "Posts_p_7" }, bounds: { kind: "list", values: ["7"] } }),
      expect.objectContaining({ partition: { schema: "public", name: "Posts_p_São Paulo" }, bounds: { kind: "list", values: ["São Paulo"] } }),
      expect.objectContaining({ partition: { schema: "public", name: 'Posts_p_it"s' }, bounds: { kind: "list", values: ['it"s'] } }),
      { kind: "create-default-partition", parent: { schema: "public", name: "Posts" }, partition: { schema: "public", name: "Posts_default" } },
    ]);
    const first = actions[0]!;
    expect(first.kind === "create-partition" && Object.isFrozen(first.bounds.kind === "list" && first.bounds.values)).toBe(true);
  });

  test("with a default partition, viaDefault is set; values given twice are planned once", () => {
    const p = policy({ table: "events", strategy: "list", values: ["eu", "eu"] });
    expect(
      planFuturePartitions(p, parent({ method: "list", keyType: "text", partitions: [defaultPartition("events_other")] }), now),
    ).toEqual([
      {
        kind: "create-partition",
        parent: { schema: "public", name: "events" },
        partition: { schema: "public", name: "events_p_eu" },
        bounds: { kind: "list", values: ["eu"] },
        viaDefault: { schema: "public", name: "events_other" },
        reason: "list value",
      },
    ]);
  });

  test("long values are cut and hashed so the name fits", () => {
    const value = "a-very-long-list-value-".repeat(4);
    const p = policy({ table: "events", strategy: "list", values: [value], defaultPartition: false });
    const [action] = planFuturePartitions(p, parent({ method: "list", keyType: "text" }), now);
    expect(action!.partition.name).toMatch(/^events_p_a-very-long-list-value-a-very-_[0-9a-f]{6}$/);
  });
});

describe("hash", () => {
  test("every missing remainder 0..modulus-1", () => {
    const p = policy({ table: "hej\"hej", strategy: "hash", modulus: 4 });
    const actions = planFuturePartitions(
      p,
      parent({
        name: 'hej"hej',
        method: "hash",
        keyType: "uuid",
        partitions: [
          partition('hej"hej_p1', { kind: "hash", modulus: 4, remainder: 1 }),
          partition('hej"hej_p2', { kind: "hash", modulus: 4, remainder: 2 }),
        ],
      }),
      now,
    );
    expect(actions).toEqual([
      {
        kind: "create-partition",
        parent: { schema: "public", name: 'hej"hej' },
        partition: { schema: "public", name: 'hej"hej_p0' },
        bounds: { kind: "hash", modulus: 4, remainder: 0 },
        viaDefault: null,
        reason: "hash remainder",
      },
      {
        kind: "create-partition",
        parent: { schema: "public", name: 'hej"hej' },
        partition: { schema: "public", name: 'hej"hej_p3' },
        bounds: { kind: "hash", modulus: 4, remainder: 3 },
        viaDefault: null,
        reason: "hash remainder",
      },
    ]);
  });

  test("another modulus is refused", () => {
    const p = policy({ table: "events", strategy: "hash", modulus: 4 });
    expect(() =>
      planChecked(p, parent({ method: "hash", keyType: "uuid", partitions: [partition("events_p0", { kind: "hash", modulus: 2, remainder: 0 })] }), now, "future"),
    ).toThrow(/changing the modulus needs a migration/);
  });
});
