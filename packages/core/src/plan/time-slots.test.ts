import { DateTime } from "luxon";
import { describe, expect, test } from "vitest";
import { MAX_KEY, MIN_KEY } from "./range-key.ts";
import {
  instantToKey,
  isRepeatedWallTime,
  nextSlotStart,
  parseTimeKey,
  renderTimeKey,
  slotStart,
  timeAxis,
  timeKeyTypeOf,
  utcSlots,
  type TimeKeyType,
} from "./time-slots.ts";
import { INTERVALS } from "../config/schema.ts";

const utc = (iso: string) => DateTime.fromISO(iso, { zone: "utc" });
const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

describe("timeKeyTypeOf", () => {
  test("format_type names, with or without precision", () => {
    expect(timeKeyTypeOf("timestamp with time zone")).toBe("timestamptz");
    expect(timeKeyTypeOf("timestamp(3) with time zone")).toBe("timestamptz");
    expect(timeKeyTypeOf("timestamp without time zone")).toBe("timestamp");
    expect(timeKeyTypeOf("timestamp(6) without time zone")).toBe("timestamp");
    expect(timeKeyTypeOf("date")).toBe("date");
    expect(timeKeyTypeOf("bigint")).toBeNull();
    expect(timeKeyTypeOf("time with time zone")).toBeNull();
  });
});

describe("slotStart / nextSlotStart", () => {
  test("month end: Jan 31 -> Feb 1 -> Mar 1 (leap year)", () => {
    const jan = slotStart(utc("2024-01-31T23:59:59.999"), "month");
    expect(jan.toISO()).toBe("2024-01-01T00:00:00.000Z");
    const feb = nextSlotStart(jan, "month");
    expect(feb.toISO()).toBe("2024-02-01T00:00:00.000Z");
    expect(nextSlotStart(feb, "month").toISO()).toBe("2024-03-01T00:00:00.000Z");
  });

  test("leap day is its own day slot", () => {
    const d = slotStart(utc("2024-02-29T13:00"), "day");
    expect(d.toISO()).toBe("2024-02-29T00:00:00.000Z");
    expect(nextSlotStart(d, "day").toISO()).toBe("2024-03-01T00:00:00.000Z");
  });

  test("ISO weeks start on Monday, also across the year boundary", () => {
    expect(slotStart(utc("2021-01-01T10:00"), "week").toISO()).toBe("2020-12-28T00:00:00.000Z");
    expect(slotStart(utc("2025-01-01T10:00"), "week").toISO()).toBe("2024-12-30T00:00:00.000Z");
  });

  test("quarters", () => {
    const q = slotStart(utc("2024-05-15T00:00"), "quarter");
    expect(q.toISO()).toBe("2024-04-01T00:00:00.000Z");
    expect(nextSlotStart(q, "quarter").toISO()).toBe("2024-07-01T00:00:00.000Z");
    expect(nextSlotStart(utc("2024-10-01T00:00"), "quarter").toISO()).toBe("2025-01-01T00:00:00.000Z");
  });

  test("days in Europe/Berlin are 23 and 25 hours across DST", () => {
    const spring = slotStart(DateTime.fromISO("2024-03-31T12:00", { zone: "Europe/Berlin" }), "day");
    expect(nextSlotStart(spring, "day").diff(spring, "hours").hours).toBe(23);
    const autumn = slotStart(DateTime.fromISO("2024-10-27T12:00", { zone: "Europe/Berlin" }), "day");
    expect(nextSlotStart(autumn, "day").diff(autumn, "hours").hours).toBe(25);
  });

  test("hours across the autumn change are one elapsed hour each, the repeated 02:00 kept apart", () => {
    const first = DateTime.fromISO("2024-10-27T00:00:00Z").setZone("Europe/Berlin"); // 02:00+02
    const second = nextSlotStart(first, "hour");
    expect(second.toUTC().toISO()).toBe("2024-10-27T01:00:00.000Z"); // 02:00+01
    expect(slotStart(second.plus({ minutes: 30 }), "hour").toUTC().toISO()).toBe("2024-10-27T01:00:00.000Z");
    expect(isRepeatedWallTime(first)).toBe(false);
    expect(isRepeatedWallTime(second)).toBe(true);
    expect(isRepeatedWallTime(nextSlotStart(second, "hour"))).toBe(false);
  });
});

describe("utcSlots", () => {
  test("equal luxon's slots in UTC for every interval, over five centuries, aligned or not", () => {
    // A fixed pseudo-random walk (no Math.random: a failure must reproduce).
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const instants = [
      ...Array.from({ length: 400 }, () => Math.floor(Date.UTC(1800, 0, 1) + next() * (Date.UTC(2300, 0, 1) - Date.UTC(1800, 0, 1)))),
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(2020, 11, 31, 12),
      Date.UTC(2021, 0, 4),
      Date.UTC(1970, 0, 1),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      -1,
    ];
    for (const interval of INTERVALS) {
      for (const ms of instants) {
        const dt = DateTime.fromMillis(ms, { zone: "UTC" });
        expect([interval, ms, utcSlots.slotStart(ms, interval)]).toEqual([interval, ms, slotStart(dt, interval).toMillis()]);
        expect([interval, ms, utcSlots.nextSlotStart(ms, interval)]).toEqual([interval, ms, nextSlotStart(slotStart(dt, interval), interval).toMillis()]);
        expect([interval, ms, utcSlots.nextSlotStart(ms, interval)]).toEqual([interval, ms, nextSlotStart(dt, interval).toMillis()]);
      }
    }
  });

  test("are what a UTC axis lays, and a zone with DST still goes through luxon", () => {
    const axis = timeAxis("timestamptz", "month", "UTC");
    expect(axis.render(axis.slotOf(micros("2024-02-29T13:00:00Z")))).toBe("2024-02-01 00:00:00+00");
    expect(axis.render(axis.nextSlot(micros("2024-12-01T00:00:00Z")))).toBe("2025-01-01 00:00:00+00");
    const berlin = timeAxis("timestamptz", "day", "Europe/Berlin");
    expect(berlin.render(berlin.nextSlot(micros("2024-03-30T23:00:00Z")))).toBe("2024-03-31 22:00:00+00");
  });
});

describe("bound literals", () => {
  test("parse and render round trip, fractional seconds kept exactly", () => {
    for (const [literal, keyType] of [
      ["2024-01-01 00:00:00+00", "timestamptz"],
      ["2024-01-01 00:00:00.5+00", "timestamptz"],
      ["2024-01-01 00:00:00.123456+00", "timestamptz"],
      ["1969-12-31 23:59:59.999999+00", "timestamptz"],
      ["2024-01-01 00:00:00", "timestamp"],
      ["2024-02-29 13:45:10.000001", "timestamp"],
      ["2024-02-29", "date"],
      ["0099-03-01", "date"],
      ["10000-01-01 00:00:00+00", "timestamptz"],
      ["MINVALUE", "date"],
      ["MAXVALUE", "timestamptz"],
    ] as const) {
      expect(renderTimeKey(parseTimeKey(literal, keyType), keyType)).toBe(literal);
    }
  });

  test("keys are microseconds", () => {
    expect(parseTimeKey("2024-01-01 00:00:00.5+00", "timestamptz")).toBe(micros("2024-01-01T00:00:00Z") + 500_000n);
    expect(parseTimeKey("2024-01-01 00:00:00.000001+00", "timestamptz")).toBe(micros("2024-01-01T00:00:00Z") + 1n);
    expect(parseTimeKey("2024-01-01 05:30:00+05:30", "timestamptz")).toBe(micros("2024-01-01T00:00:00Z"));
    expect(parseTimeKey("infinity", "timestamp")).toBe(MAX_KEY);
    expect(parseTimeKey("-infinity", "timestamp")).toBe(MIN_KEY);
  });

  test("literals not matching the key type are refused", () => {
    expect(() => parseTimeKey("2024-01-01 00:00:00", "timestamptz")).toThrow(/timestamptz/);
    expect(() => parseTimeKey("2024-01-01 00:00:00+00", "timestamp")).toThrow();
    expect(() => parseTimeKey("2024-01-01 00:00:00", "date")).toThrow();
    expect(() => parseTimeKey("0044-03-15 BC", "date")).toThrow();
    expect(() => parseTimeKey("2024-02-30", "date")).toThrow();
    expect(() => parseTimeKey("2024-01-01 24:00:00", "timestamp")).toThrow();
    expect(() => parseTimeKey("2023-02-29 00:00:00+00", "timestamptz")).toThrow();
  });

  test("an instant's bound: timestamptz in UTC, timestamp as wall clock in the zone, date as the local date", () => {
    const instant = new Date("2023-12-31T23:00:00Z"); // 2024-01-01 00:00 in Berlin
    const bound = (keyType: TimeKeyType, zone: string) => renderTimeKey(instantToKey(instant, keyType, zone), keyType);
    expect(bound("timestamptz", "Europe/Berlin")).toBe("2023-12-31 23:00:00+00");
    expect(bound("timestamp", "Europe/Berlin")).toBe("2024-01-01 00:00:00");
    expect(bound("date", "Europe/Berlin")).toBe("2024-01-01");
    expect(() => bound("date", "UTC")).toThrow(/midnight/);
  });

  test("a bound's instant: timestamp and date are wall clock in the zone", () => {
    const keyOf = (iso: string, keyType: TimeKeyType, zone: string) => instantToKey(new Date(iso), keyType, zone);
    expect(parseTimeKey("2024-07-01 00:00:00", "timestamp")).toBe(keyOf("2024-06-30T22:00:00Z", "timestamp", "Europe/Berlin"));
    expect(parseTimeKey("2024-01-01", "date")).toBe(keyOf("2024-01-01T05:00:00Z", "date", "America/New_York"));
    expect(parseTimeKey("2024-01-01 00:00:00+00", "timestamptz")).toBe(keyOf("2024-01-01T00:00:00Z", "timestamptz", "America/New_York"));
    expect(parseTimeKey("MAXVALUE", "timestamptz")).toBe(MAX_KEY);
    expect(parseTimeKey("MINVALUE", "date")).toBe(MIN_KEY);
  });
});

describe("timeAxis suffixes", () => {
  const key = (iso: string) => micros(iso);
  test("one per interval, from the lower bound in the zone", () => {
    const berlin = (interval: Parameters<typeof timeAxis>[1]) => timeAxis("timestamptz", interval, "Europe/Berlin");
    // 2023-12-31T23:00Z is 2024-01-01 00:00 in Berlin
    expect(berlin("year").alignedSuffix(key("2023-12-31T23:00:00Z"))).toBe("_p2024");
    expect(berlin("quarter").alignedSuffix(key("2023-12-31T23:00:00Z"))).toBe("_p2024q1");
    expect(berlin("month").alignedSuffix(key("2023-12-31T23:00:00Z"))).toBe("_p2024_01");
    expect(berlin("week").alignedSuffix(key("2024-01-28T23:00:00Z"))).toBe("_p2024w05");
    expect(berlin("day").alignedSuffix(key("2024-01-30T23:00:00Z"))).toBe("_p2024_01_31");
    expect(berlin("hour").alignedSuffix(key("2024-01-31T12:00:00Z"))).toBe("_p2024_01_31_1300");
    expect(berlin("month").unalignedSuffix(key("2024-01-15T11:00:00Z"))).toBe("_p20240115_120000");
    expect(berlin("month").unalignedSuffix(key("2024-01-15T11:00:00Z") + 250_000n)).toBe("_p20240115_120000_250000");
  });

  test("ISO week-year differs from the calendar year at the boundary", () => {
    const axis = timeAxis("date", "week", "UTC");
    expect(axis.alignedSuffix(key("2024-12-30T00:00:00Z"))).toBe("_p2025w01");
    expect(axis.alignedSuffix(key("2020-12-28T00:00:00Z"))).toBe("_p2020w53");
    expect(axis.alignedSuffix(key("2021-01-04T00:00:00Z"))).toBe("_p2021w01");
  });

  test("calendar minus in the zone", () => {
    const axis = timeAxis("timestamptz", "month", "Europe/Berlin");
    // 2024-08-31 00:00 Berlin minus 6 months = 2024-02-29 00:00 Berlin (clamped)
    expect(axis.render(axis.minus(key("2024-08-30T22:00:00Z"), { months: 6 }))).toBe("2024-02-28 23:00:00+00");
    // 14:00 CEST minus 30 calendar days is 14:00 CET: 13:00 UTC, not 12:00 (30 x 24 h would cross DST)
    expect(axis.render(axis.minus(key("2024-04-01T12:00:00Z"), { days: 30 }))).toBe("2024-03-02 13:00:00+00");
  });
});
