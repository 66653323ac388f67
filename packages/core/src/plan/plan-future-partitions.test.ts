import { describe, expect, test } from "vitest";
import type { TablePolicy } from "../config/schema.ts";
import { qualifiedName } from "../identifier.ts";
import { planFuturePartitions } from "./plan-future-partitions.ts";
import { at, defaultPartition, describeCreates, parent, planChecked, policy, range, type ParentOptions } from "./test-fixtures.ts";

type TimeInput = { interval: "hour" | "day" | "week" | "month" | "quarter" | "year"; premake?: number; timeZone?: string; retention?: string };

function timePolicy(input: TimeInput, defaultPartitionWanted = false): TablePolicy {
  return policy({ table: "events", strategy: "range-time", defaultPartition: defaultPartitionWanted, ...input });
}

function plan(input: TimeInput, now: string, options: ParentOptions = {}): string[] {
  return describeCreates(planFuturePartitions(timePolicy(input), parent(options), at(now)));
}

describe("range-time: current and premake, relative to now in the zone", () => {
  test("exact actions for a monthly UTC parent, frozen", () => {
    const actions = planFuturePartitions(timePolicy({ interval: "month", premake: 1 }), parent(), at("2024-01-31T12:00:00Z"));
    expect(actions).toEqual([
      {
        kind: "create-partition",
        parent: { schema: "public", name: "events" },
        partition: { schema: "public", name: "events_p2024_01" },
        bounds: { kind: "range", from: "2024-01-01 00:00:00+00", to: "2024-02-01 00:00:00+00" },
        viaDefault: null,
        reason: "current",
      },
      {
        kind: "create-partition",
        parent: { schema: "public", name: "events" },
        partition: { schema: "public", name: "events_p2024_02" },
        bounds: { kind: "range", from: "2024-02-01 00:00:00+00", to: "2024-03-01 00:00:00+00" },
        viaDefault: null,
        reason: "premake",
      },
    ]);
    expect(Object.isFrozen(actions)).toBe(true);
    for (const a of actions) {
      expect(Object.isFrozen(a)).toBe(true);
      if (a.kind === "create-partition") {
        expect(Object.isFrozen(a.bounds)).toBe(true);
        expect(Object.isFrozen(a.partition)).toBe(true);
        expect(Object.isFrozen(a.parent)).toBe(true);
      }
    }
  });

  test("month end: Jan 31 -> Feb (29 days in 2024) -> Mar", () => {
    expect(plan({ interval: "month", premake: 2 }, "2024-01-31T23:59:59Z")).toEqual([
      "events_p2024_01 2024-01-01 00:00:00+00..2024-02-01 00:00:00+00 current",
      "events_p2024_02 2024-02-01 00:00:00+00..2024-03-01 00:00:00+00 premake",
      "events_p2024_03 2024-03-01 00:00:00+00..2024-04-01 00:00:00+00 premake",
    ]);
  });

  test("premake 0 creates the current slot only", () => {
    expect(plan({ interval: "month", premake: 0 }, "2024-01-31T23:59:59Z")).toEqual([
      "events_p2024_01 2024-01-01 00:00:00+00..2024-02-01 00:00:00+00 current",
    ]);
  });

  test("leap day, daily", () => {
    expect(plan({ interval: "day", premake: 2 }, "2024-02-28T23:30:00Z")).toEqual([
      "events_p2024_02_28 2024-02-28 00:00:00+00..2024-02-29 00:00:00+00 current",
      "events_p2024_02_29 2024-02-29 00:00:00+00..2024-03-01 00:00:00+00 premake",
      "events_p2024_03_01 2024-03-01 00:00:00+00..2024-03-02 00:00:00+00 premake",
    ]);
  });

  test("leap day, yearly", () => {
    expect(plan({ interval: "year", premake: 1 }, "2024-02-29T12:00:00Z")).toEqual([
      "events_p2024 2024-01-01 00:00:00+00..2025-01-01 00:00:00+00 current",
      "events_p2025 2025-01-01 00:00:00+00..2026-01-01 00:00:00+00 premake",
    ]);
  });

  test("quarters, with a date key", () => {
    expect(plan({ interval: "quarter", premake: 2 }, "2024-11-15T00:00:00Z", { keyType: "date" })).toEqual([
      "events_p2024q4 2024-10-01..2025-01-01 current",
      "events_p2025q1 2025-01-01..2025-04-01 premake",
      "events_p2025q2 2025-04-01..2025-07-01 premake",
    ]);
  });

  test("ISO weeks across a year boundary (Monday 2024-12-30 is week 1 of 2025)", () => {
    expect(plan({ interval: "week", premake: 1 }, "2024-12-31T10:00:00Z")).toEqual([
      "events_p2025w01 2024-12-30 00:00:00+00..2025-01-06 00:00:00+00 current",
      "events_p2025w02 2025-01-06 00:00:00+00..2025-01-13 00:00:00+00 premake",
    ]);
    expect(plan({ interval: "week", premake: 1 }, "2021-01-01T10:00:00Z", { keyType: "date" })).toEqual([
      "events_p2020w53 2020-12-28..2021-01-04 current",
      "events_p2021w01 2021-01-04..2021-01-11 premake",
    ]);
  });

  test("hours, UTC", () => {
    expect(plan({ interval: "hour", premake: 2 }, "2024-01-31T23:15:00Z")).toEqual([
      "events_p2024_01_31_2300 2024-01-31 23:00:00+00..2024-02-01 00:00:00+00 current",
      "events_p2024_02_01_0000 2024-02-01 00:00:00+00..2024-02-01 01:00:00+00 premake",
      "events_p2024_02_01_0100 2024-02-01 01:00:00+00..2024-02-01 02:00:00+00 premake",
    ]);
  });

  test("the zone decides the slot: 23:30 UTC on Jan 31 is Feb 1 in Berlin", () => {
    expect(plan({ interval: "day", premake: 0, timeZone: "Europe/Berlin" }, "2024-01-31T23:30:00Z")).toEqual([
      "events_p2024_02_01 2024-01-31 23:00:00+00..2024-02-01 23:00:00+00 current",
    ]);
    expect(plan({ interval: "day", premake: 0, timeZone: "Europe/Berlin" }, "2024-01-31T23:30:00Z", { keyType: "date" })).toEqual([
      "events_p2024_02_01 2024-02-01..2024-02-02 current",
    ]);
    expect(plan({ interval: "month", premake: 0, timeZone: "Europe/Berlin" }, "2024-01-31T23:30:00Z", { keyType: "timestamp without time zone" })).toEqual([
      "events_p2024_02 2024-02-01 00:00:00..2024-03-01 00:00:00 current",
    ]);
  });
});

describe("range-time across DST changes (timestamptz)", () => {
  test("Europe/Berlin days: a 23-hour day (Mar 31) and a 25-hour day (Oct 27)", () => {
    expect(plan({ interval: "day", premake: 2, timeZone: "Europe/Berlin" }, "2024-03-30T12:00:00Z")).toEqual([
      "events_p2024_03_30 2024-03-29 23:00:00+00..2024-03-30 23:00:00+00 current",
      "events_p2024_03_31 2024-03-30 23:00:00+00..2024-03-31 22:00:00+00 premake",
      "events_p2024_04_01 2024-03-31 22:00:00+00..2024-04-01 22:00:00+00 premake",
    ]);
    expect(plan({ interval: "day", premake: 1, timeZone: "Europe/Berlin" }, "2024-10-27T12:00:00Z")).toEqual([
      "events_p2024_10_27 2024-10-26 22:00:00+00..2024-10-27 23:00:00+00 current",
      "events_p2024_10_28 2024-10-27 23:00:00+00..2024-10-28 23:00:00+00 premake",
    ]);
  });

  test("America/New_York days: 23 hours on Mar 10, 25 hours on Nov 3", () => {
    expect(plan({ interval: "day", premake: 1, timeZone: "America/New_York" }, "2024-03-10T12:00:00Z")).toEqual([
      "events_p2024_03_10 2024-03-10 05:00:00+00..2024-03-11 04:00:00+00 current",
      "events_p2024_03_11 2024-03-11 04:00:00+00..2024-03-12 04:00:00+00 premake",
    ]);
    expect(plan({ interval: "day", premake: 0, timeZone: "America/New_York" }, "2024-11-03T12:00:00Z")).toEqual([
      "events_p2024_11_03 2024-11-03 04:00:00+00..2024-11-04 05:00:00+00 current",
    ]);
  });

  test("Europe/Berlin hours in autumn: the repeated 02:00 is two UTC hours, the second named _2", () => {
    const expected = [
      "events_p2024_10_27_0200 2024-10-27 00:00:00+00..2024-10-27 01:00:00+00 current",
      "events_p2024_10_27_0200_2 2024-10-27 01:00:00+00..2024-10-27 02:00:00+00 premake",
      "events_p2024_10_27_0300 2024-10-27 02:00:00+00..2024-10-27 03:00:00+00 premake",
      "events_p2024_10_27_0400 2024-10-27 03:00:00+00..2024-10-27 04:00:00+00 premake",
    ];
    expect(plan({ interval: "hour", premake: 3, timeZone: "Europe/Berlin" }, "2024-10-27T00:10:00Z")).toEqual(expected);
    // Planned during the second 02:00, the first is a gap below an existing partition, same names.
    expect(
      plan({ interval: "hour", premake: 2, timeZone: "Europe/Berlin" }, "2024-10-27T01:10:00Z", {
        partitions: [range("events_p2024_10_27_0100", "2024-10-26 23:00:00+00", "2024-10-27 00:00:00+00")],
      }),
    ).toEqual([expected[0]!.replace("current", "gap"), expected[1]!.replace("premake", "current"), expected[2], expected[3]]);
  });

  test("Europe/Berlin hours in spring: 02:00 does not exist, 01:00 is followed by 03:00", () => {
    expect(plan({ interval: "hour", premake: 2, timeZone: "Europe/Berlin" }, "2024-03-31T00:30:00Z")).toEqual([
      "events_p2024_03_31_0100 2024-03-31 00:00:00+00..2024-03-31 01:00:00+00 current",
      "events_p2024_03_31_0300 2024-03-31 01:00:00+00..2024-03-31 02:00:00+00 premake",
      "events_p2024_03_31_0400 2024-03-31 02:00:00+00..2024-03-31 03:00:00+00 premake",
    ]);
  });

  test("America/New_York hours: 01:00 EDT then 01:00 EST", () => {
    expect(plan({ interval: "hour", premake: 2, timeZone: "America/New_York" }, "2024-11-03T05:30:00Z")).toEqual([
      "events_p2024_11_03_0100 2024-11-03 05:00:00+00..2024-11-03 06:00:00+00 current",
      "events_p2024_11_03_0100_2 2024-11-03 06:00:00+00..2024-11-03 07:00:00+00 premake",
      "events_p2024_11_03_0200 2024-11-03 07:00:00+00..2024-11-03 08:00:00+00 premake",
    ]);
    expect(plan({ interval: "hour", premake: 1, timeZone: "America/New_York" }, "2024-03-10T06:30:00Z")).toEqual([
      "events_p2024_03_10_0100 2024-03-10 06:00:00+00..2024-03-10 07:00:00+00 current",
      "events_p2024_03_10_0300 2024-03-10 07:00:00+00..2024-03-10 08:00:00+00 premake",
    ]);
  });

  test("timestamp without time zone: slots on the wall clock, the repeated hour is one slot", () => {
    const expected = [
      "events_p2024_10_27_0200 2024-10-27 02:00:00..2024-10-27 03:00:00 current",
      "events_p2024_10_27_0300 2024-10-27 03:00:00..2024-10-27 04:00:00 premake",
    ];
    const options = { keyType: "timestamp without time zone" };
    expect(plan({ interval: "hour", premake: 1, timeZone: "Europe/Berlin" }, "2024-10-27T00:10:00Z", options)).toEqual(expected);
    expect(plan({ interval: "hour", premake: 1, timeZone: "Europe/Berlin" }, "2024-10-27T01:10:00Z", options)).toEqual(expected);
    // the skipped wall hour 02:00 of Mar 31 still gets a slot: no hole on the wall-clock line
    expect(plan({ interval: "hour", premake: 1, timeZone: "Europe/Berlin" }, "2024-03-31T00:30:00Z", options)).toEqual([
      "events_p2024_03_31_0100 2024-03-31 01:00:00..2024-03-31 02:00:00 current",
      "events_p2024_03_31_0200 2024-03-31 02:00:00..2024-03-31 03:00:00 premake",
    ]);
  });
});

describe("range-time: gaps, unaligned bounds, MINVALUE/MAXVALUE", () => {
  test("missing slots between the earliest partition and now are gaps; existing ones are skipped", () => {
    expect(
      plan({ interval: "month", premake: 1 }, "2024-01-15T00:00:00Z", {
        partitions: [
          range("events_p2024_01", "2024-01-01 00:00:00+00", "2024-02-01 00:00:00+00"),
          range("events_p2023_10", "2023-10-01 00:00:00+00", "2023-11-01 00:00:00+00"),
        ],
      }),
    ).toEqual([
      "events_p2023_11 2023-11-01 00:00:00+00..2023-12-01 00:00:00+00 gap",
      "events_p2023_12 2023-12-01 00:00:00+00..2024-01-01 00:00:00+00 gap",
      "events_p2024_02 2024-02-01 00:00:00+00..2024-03-01 00:00:00+00 premake",
    ]);
  });

  test("gaps already expired by retention are not created", () => {
    // now - 3 months = 2023-10-15: Jul, Aug, Sep end before it; Oct does not
    expect(
      plan({ interval: "month", premake: 0, retention: "3 months" }, "2024-01-15T00:00:00Z", {
        partitions: [
          range("events_p2023_06", "2023-06-01 00:00:00+00", "2023-07-01 00:00:00+00"),
          range("events_p2024_01", "2024-01-01 00:00:00+00", "2024-02-01 00:00:00+00"),
        ],
      }),
    ).toEqual([
      "events_p2023_10 2023-10-01 00:00:00+00..2023-11-01 00:00:00+00 gap",
      "events_p2023_11 2023-11-01 00:00:00+00..2023-12-01 00:00:00+00 gap",
      "events_p2023_12 2023-12-01 00:00:00+00..2024-01-01 00:00:00+00 gap",
    ]);
  });

  test("partitions in the future leave the holes below them filled by current/premake only", () => {
    expect(
      plan({ interval: "month", premake: 2 }, "2024-01-15T00:00:00Z", {
        partitions: [range("events_p2024_02", "2024-02-01 00:00:00+00", "2024-03-01 00:00:00+00")],
      }),
    ).toEqual([
      "events_p2024_01 2024-01-01 00:00:00+00..2024-02-01 00:00:00+00 current",
      "events_p2024_03 2024-03-01 00:00:00+00..2024-04-01 00:00:00+00 premake",
    ]);
  });

  test("bounds not aligned with the interval: only the uncovered pieces, named from their lower bound", () => {
    expect(
      plan({ interval: "month", premake: 1 }, "2024-01-20T00:00:00Z", {
        partitions: [
          range("events_old", "2024-01-01 00:00:00+00", "2024-01-15 00:00:00+00"),
          range("events_mid_feb", "2024-02-10 12:00:00+00", "2024-02-20 00:00:00+00"),
        ],
      }),
    ).toEqual([
      "events_p20240115_000000 2024-01-15 00:00:00+00..2024-02-01 00:00:00+00 current",
      "events_p20240201_000000 2024-02-01 00:00:00+00..2024-02-10 12:00:00+00 premake",
      "events_p20240220_000000 2024-02-20 00:00:00+00..2024-03-01 00:00:00+00 premake",
    ]);
  });

  test("unaligned names are local to the zone; fractional seconds are kept exactly", () => {
    expect(
      plan({ interval: "month", premake: 0, timeZone: "Europe/Berlin" }, "2024-01-20T00:00:00Z", {
        partitions: [range("events_old", "2023-12-31 23:00:00+00", "2024-01-15 11:00:00.5+00")],
      }),
    ).toEqual(["events_p20240115_120000_500000 2024-01-15 11:00:00.5+00..2024-01-31 23:00:00+00 current"]);
  });

  test("a partition reaching over several slots is skipped in one step", () => {
    expect(
      plan({ interval: "hour", premake: 1 }, "2024-06-01T10:30:00Z", {
        partitions: [range("events_history", "2000-01-01 00:00:00+00", "2024-06-01 10:00:00+00")],
      }),
    ).toEqual([
      "events_p2024_06_01_1000 2024-06-01 10:00:00+00..2024-06-01 11:00:00+00 current",
      "events_p2024_06_01_1100 2024-06-01 11:00:00+00..2024-06-01 12:00:00+00 premake",
    ]);
  });

  test("MINVALUE and MAXVALUE partitions cover everything below / above them", () => {
    expect(
      plan({ interval: "month", premake: 4 }, "2024-01-10T00:00:00Z", {
        partitions: [
          range("events_before", "MINVALUE", "2024-01-01 00:00:00+00"),
          range("events_after", "2024-03-01 00:00:00+00", "MAXVALUE"),
        ],
      }),
    ).toEqual([
      "events_p2024_01 2024-01-01 00:00:00+00..2024-02-01 00:00:00+00 current",
      "events_p2024_02 2024-02-01 00:00:00+00..2024-03-01 00:00:00+00 premake",
    ]);
    expect(
      plan({ interval: "month", premake: 1 }, "2024-01-10T00:00:00Z", {
        partitions: [range("events_before", "MINVALUE", "2024-01-15 00:00:00+00")],
      }),
    ).toEqual([
      "events_p20240115_000000 2024-01-15 00:00:00+00..2024-02-01 00:00:00+00 current",
      "events_p2024_02 2024-02-01 00:00:00+00..2024-03-01 00:00:00+00 premake",
    ]);
    expect(
      plan({ interval: "month", premake: 1 }, "2024-01-10T00:00:00Z", {
        partitions: [range("events_all", "MINVALUE", "MAXVALUE")],
      }),
    ).toEqual([]);
  });

  test("a sub-partitioned parent is refused, not given plain partitions", () => {
    const sub = range("events_p2024_01", "2024-01-01 00:00:00+00", "2024-02-01 00:00:00+00", { isPartitioned: true });
    expect(() =>
      planChecked(timePolicy({ interval: "month", premake: 1 }), parent({ partitions: [sub] }), at("2024-01-10T00:00:00Z"), "future"),
    ).toThrow(/^public\.events has sub-partitioned partitions \(events_p2024_01\): sub-partitioning is not supported/);
  });

  test("an unreadable bound makes the parent unmanageable", () => {
    expect(() =>
      plan({ interval: "month" }, "2024-01-10T00:00:00Z", { partitions: [range("events_x", "2024-01-01 00:00:00", "2024-02-01 00:00:00")] }),
    ).toThrow(/public\.events: partition events_x has bounds .* that partkeeper cannot read/);
  });

  test("a name taken by a partition with other bounds throws instead of colliding", () => {
    expect(() =>
      plan({ interval: "month", premake: 1 }, "2024-01-10T00:00:00Z", {
        partitions: [range("events_p2024_02", "2024-01-01 00:00:00+00", "2024-02-01 00:00:00+00")],
      }),
    ).toThrow(/already taken/);
  });
});

describe("default partition", () => {
  test("an existing default partition is viaDefault of every create", () => {
    const actions = planFuturePartitions(
      timePolicy({ interval: "month", premake: 1 }, true),
      parent({ partitions: [defaultPartition("events_default")] }),
      at("2024-01-10T00:00:00Z"),
    );
    expect(actions.map((a) => a.kind)).toEqual(["create-partition", "create-partition"]);
    for (const a of actions) expect(a.kind === "create-partition" && a.viaDefault).toEqual({ schema: "public", name: "events_default" });
  });

  test("no default and defaultPartition true: create-default-partition comes last, creates have viaDefault null", () => {
    const actions = planFuturePartitions(
      timePolicy({ interval: "month", premake: 1 }, true),
      parent({ schema: "Märkte", name: "Événements" }),
      at("2024-01-10T00:00:00Z"),
    );
    expect(actions.map((a) => a.kind)).toEqual(["create-partition", "create-partition", "create-default-partition"]);
    expect(actions[2]).toEqual({
      kind: "create-default-partition",
      parent: qualifiedName("Märkte", "Événements"),
      partition: qualifiedName("Märkte", "Événements_default"),
    });
    expect(actions[0]!.kind === "create-partition" && actions[0]!.viaDefault).toBeNull();
    expect(Object.isFrozen(actions[2])).toBe(true);
  });

  test("nothing missing and a default present: no actions", () => {
    expect(
      planFuturePartitions(
        timePolicy({ interval: "year", premake: 0 }, true),
        parent({ partitions: [defaultPartition("events_default"), range("events_p2024", "2024-01-01 00:00:00+00", "2025-01-01 00:00:00+00")] }),
        at("2024-06-01T00:00:00Z"),
      ),
    ).toEqual([]);
  });
});

describe("identifiers", () => {
  test('"Posts", hej"hej and Événements parents keep their names; long ones are shortened', () => {
    expect(plan({ interval: "year", premake: 0 }, "2024-06-01T00:00:00Z", { name: "Posts" })).toEqual([
      "Posts_p2024 2024-01-01 00:00:00+00..2025-01-01 00:00:00+00 current",
    ]);
    expect(plan({ interval: "year", premake: 0 }, "2024-06-01T00:00:00Z", { name: 'hej"hej', schema: "my schema" })).toEqual([
      'hej"hej_p2024 2024-01-01 00:00:00+00..2025-01-01 00:00:00+00 current',
    ]);
    const long = plan({ interval: "day", premake: 1 }, "2024-06-01T00:00:00Z", { name: `Événements${"_très_longs".repeat(5)}` });
    expect(long).toHaveLength(2);
    for (const line of long) {
      const name = line.split(" ")[0]!;
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^Événements_très_longs.*_[0-9a-f]{6}_p2024_06_0[12]$/);
    }
  });
});
