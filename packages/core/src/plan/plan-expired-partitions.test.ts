import { describe, expect, test } from "vitest";
import type { ConfigInput } from "../config/schema.ts";
import { qualifiedName } from "../identifier.ts";
import { planExpiredPartitions } from "./plan-expired-partitions.ts";
import { archiveRecord, at, parent, planChecked, policy, range } from "./test-fixtures.ts";

type TableInput = ConfigInput["tables"][number];
const events = qualifiedName("public", "events");

const monthlyPartitions = ["2024-01", "2024-02", "2024-03", "2024-07", "2024-08"].map((m) => {
  const [y, mo] = m.split("-").map(Number) as [number, number];
  const next = mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, "0")}`;
  return range(`events_p${m.replace("-", "_")}`, `${m}-01 00:00:00+00`, `${next}-01 00:00:00+00`);
});

function monthly(extra: Partial<TableInput> = {}) {
  return policy({ table: "events", strategy: "range-time", interval: "month", retention: "6 months", ...extra } as TableInput);
}

describe("range-time expiry", () => {
  test("upper bound <= now - 6 months, archived, oldest first; MAXVALUE never expires", () => {
    const p = parent({
      partitions: [
        monthlyPartitions[1]!,
        monthlyPartitions[0]!,
        ...monthlyPartitions.slice(2),
        range("events_future", "2024-09-01 00:00:00+00", "MAXVALUE"),
      ],
    });
    // now - 6 months = 2024-03-01 00:00 UTC: Jan and Feb end at or before it
    const actions = planExpiredPartitions(monthly(), p, [], at("2024-09-01T00:00:00Z"));
    expect(actions).toEqual([
      {
        kind: "archive-partition",
        parent: events,
        partition: qualifiedName("public", "events_p2024_01"),
        boundExpression: "FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-02-01 00:00:00+00')",
        keepTable: false,
        resumeArchiveId: null,
        reason: "expired: upper bound 2024-02-01 00:00:00+00 is older than 6 months",
      },
      {
        kind: "archive-partition",
        parent: events,
        partition: qualifiedName("public", "events_p2024_02"),
        boundExpression: "FOR VALUES FROM ('2024-02-01 00:00:00+00') TO ('2024-03-01 00:00:00+00')",
        keepTable: false,
        resumeArchiveId: null,
        reason: "expired: upper bound 2024-03-01 00:00:00+00 is older than 6 months",
      },
    ]);
    expect(Object.isFrozen(actions)).toBe(true);
    for (const a of actions) expect(Object.isFrozen(a)).toBe(true);
  });

  test("one microsecond before the cutoff, Feb has not expired yet", () => {
    const p = parent({ partitions: monthlyPartitions });
    expect(planExpiredPartitions(monthly(), p, [], at("2024-08-31T23:59:59.999Z")).map((a) => a.partition.name)).toEqual(["events_p2024_01"]);
  });

  test("keepTable with archive: archive-partition with keepTable true", () => {
    const [a] = planExpiredPartitions(monthly({ retentionKeepTable: true }), parent({ partitions: monthlyPartitions }), [], at("2024-08-15T00:00:00Z"));
    expect(a).toMatchObject({ kind: "archive-partition", keepTable: true, partition: { name: "events_p2024_01" } });
  });

  test("archive disabled and retentionKeepTable: detach-partition", () => {
    const actions = planExpiredPartitions(
      monthly({ retentionKeepTable: true, archive: { enabled: false } }),
      parent({ partitions: monthlyPartitions }),
      [],
      at("2024-08-15T00:00:00Z"),
    );
    expect(actions).toEqual([
      {
        kind: "detach-partition",
        parent: events,
        partition: qualifiedName("public", "events_p2024_01"),
        reason: "expired: upper bound 2024-02-01 00:00:00+00 is older than 6 months",
      },
    ]);
  });

  test("archive disabled, no keepTable: drop-partition; 30 days on a daily date key in a zone", () => {
    const daily = ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"].map((d, i, all) =>
      range(`events_p${d.replaceAll("-", "_")}`, d, all[i + 1] ?? "2024-03-05"),
    );
    // 2024-04-02T23:30Z is 2024-04-03 01:30 in Berlin; minus 30 days = 2024-03-04 01:30 (wall clock)
    const actions = planExpiredPartitions(
      policy({ table: "events", strategy: "range-time", interval: "day", timeZone: "Europe/Berlin", retention: "30 days", archive: { enabled: false } }),
      parent({ keyType: "date", partitions: daily }),
      [],
      at("2024-04-02T23:30:00Z"),
    );
    expect(actions).toEqual([
      { kind: "drop-partition", parent: events, partition: qualifiedName("public", "events_p2024_03_01"), reason: "expired: upper bound 2024-03-02 is older than 30 days" },
      { kind: "drop-partition", parent: events, partition: qualifiedName("public", "events_p2024_03_02"), reason: "expired: upper bound 2024-03-03 is older than 30 days" },
      { kind: "drop-partition", parent: events, partition: qualifiedName("public", "events_p2024_03_03"), reason: "expired: upper bound 2024-03-04 is older than 30 days" },
    ]);
  });

  test("timestamp without time zone: wall clock in the zone", () => {
    const partitions = [range("events_p2024_01", "2024-01-01 00:00:00", "2024-02-01 00:00:00")];
    const p = policy({ table: "events", strategy: "range-time", interval: "month", timeZone: "America/New_York", retention: "1 month", archive: { enabled: false } });
    // 2024-03-01T04:59Z is still Feb 29 23:59 in New York: minus 1 month = Jan 29, not expired
    expect(planExpiredPartitions(p, parent({ keyType: "timestamp without time zone", partitions }), [], at("2024-03-01T04:59:00Z"))).toEqual([]);
    expect(planExpiredPartitions(p, parent({ keyType: "timestamp without time zone", partitions }), [], at("2024-03-01T05:00:00Z"))).toHaveLength(1);
  });

  test("no retention: nothing expires; a sub-partitioned parent is refused, not silently kept", () => {
    expect(planExpiredPartitions(monthly({ retention: undefined }), parent({ partitions: monthlyPartitions }), [], at("2030-01-01T00:00:00Z"))).toEqual([]);
    const sub = range("events_p2024_01", "2024-01-01 00:00:00+00", "2024-02-01 00:00:00+00", { isPartitioned: true });
    expect(() => planChecked(monthly(), parent({ partitions: [sub] }), at("2030-01-01T00:00:00Z"), "expired")).toThrow(
      /sub-partitioning is not supported/,
    );
  });
});

describe("unfinished archives", () => {
  test("come first by id, with resumeArchiveId, and are not planned twice", () => {
    const records = [
      archiveRecord(12, events, "events_p2024_02", "exported", { kind: "range", from: "2024-02-01 00:00:00+00", to: "2024-03-01 00:00:00+00" }),
      archiveRecord(7, events, "events_p2023_12", "detached", { kind: "range", from: "2023-12-01 00:00:00+00", to: "2024-01-01 00:00:00+00" }),
      archiveRecord(3, events, "events_p2023_11", "dropped", { kind: "range", from: "2023-11-01 00:00:00+00", to: "2023-12-01 00:00:00+00" }),
      archiveRecord(4, events, "events_p2023_10", "kept", { kind: "range", from: "2023-10-01 00:00:00+00", to: "2023-11-01 00:00:00+00" }),
      archiveRecord(9, qualifiedName("public", "other"), "other_p2023_01", "intent", { kind: "range", from: "2023-01-01 00:00:00+00", to: "2023-02-01 00:00:00+00" }),
      archiveRecord(13, qualifiedName("audit", "events"), "events_p2023_01", "verified", { kind: "range", from: "2023-01-01 00:00:00+00", to: "2023-02-01 00:00:00+00" }),
    ];
    // events_p2023_12 is detached already (not in partitions); events_p2024_02 is still attached and expired
    const actions = planExpiredPartitions(monthly({ retentionKeepTable: true }), parent({ partitions: monthlyPartitions }), records, at("2024-09-01T00:00:00Z"));
    expect(actions).toEqual([
      {
        kind: "archive-partition",
        parent: events,
        partition: qualifiedName("public", "events_p2023_12"),
        boundExpression: "FOR VALUES FROM ('2023-12-01 00:00:00+00') TO ('2024-01-01 00:00:00+00')",
        keepTable: true,
        resumeArchiveId: 7,
        reason: "resume unfinished archive 7 of events_p2023_12 (state detached)",
      },
      {
        kind: "archive-partition",
        parent: events,
        partition: qualifiedName("public", "events_p2024_02"),
        boundExpression: "FOR VALUES FROM ('2024-02-01 00:00:00+00') TO ('2024-03-01 00:00:00+00')",
        keepTable: true,
        resumeArchiveId: 12,
        reason: "resume unfinished archive 12 of events_p2024_02 (state exported)",
      },
      {
        kind: "archive-partition",
        parent: events,
        partition: qualifiedName("public", "events_p2024_01"),
        boundExpression: "FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-02-01 00:00:00+00')",
        keepTable: true,
        resumeArchiveId: null,
        reason: "expired: upper bound 2024-02-01 00:00:00+00 is older than 6 months",
      },
    ]);
  });

  test("are resumed even when the policy no longer has retention", () => {
    const records = [archiveRecord(5, events, "events_p2023_12", "intent", { kind: "range", from: "2023-12-01 00:00:00+00", to: "2024-01-01 00:00:00+00" })];
    expect(planExpiredPartitions(monthly({ retention: undefined }), parent(), records, at("2024-09-01T00:00:00Z"))).toMatchObject([
      { kind: "archive-partition", resumeArchiveId: 5, keepTable: false },
    ]);
  });
});

describe("range-integer expiry", () => {
  const partitions = [range("events_p0", "0", "1000"), range("events_p1000", "1000", "2000"), range("events_p2000", "2000", "3000"), range("events_high", "3000", "MAXVALUE")];
  const p = policy({ table: "events", strategy: "range-integer", step: 1000, retention: 2000, archive: { enabled: false } });

  test("upper bound <= maxKey - retention", () => {
    expect(planExpiredPartitions(p, parent({ keyType: "bigint", maxKey: "4000", partitions }), [], at("2024-01-01T00:00:00Z"))).toEqual([
      { kind: "drop-partition", parent: events, partition: qualifiedName("public", "events_p0"), reason: "expired: upper bound 1000 is at or below max key 4000 minus retention 2000" },
      { kind: "drop-partition", parent: events, partition: qualifiedName("public", "events_p1000"), reason: "expired: upper bound 2000 is at or below max key 4000 minus retention 2000" },
    ]);
    expect(planExpiredPartitions(p, parent({ keyType: "bigint", maxKey: "3999", partitions }), [], at("2024-01-01T00:00:00Z"))).toHaveLength(1);
  });

  test("an empty parent (maxKey null) expires nothing; bigint beyond 2^53 stays exact", () => {
    expect(planExpiredPartitions(p, parent({ keyType: "bigint", maxKey: null, partitions }), [], at("2024-01-01T00:00:00Z"))).toEqual([]);
    const big = [range("events_a", "9007199254740000", "9007199254740993"), range("events_b", "9007199254740993", "9007199254741993")];
    expect(
      planExpiredPartitions(p, parent({ keyType: "bigint", maxKey: "9007199254742993", partitions: big }), [], at("2024-01-01T00:00:00Z")).map((a) => a.partition.name),
    ).toEqual(["events_a"]);
  });
});

describe("list and hash", () => {
  test("never expire", () => {
    expect(planExpiredPartitions(policy({ table: "events", strategy: "list", values: ["eu"] }), parent({ method: "list", keyType: "text" }), [], at("2024-01-01T00:00:00Z"))).toEqual([]);
  });
});
