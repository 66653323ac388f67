import { DateTime, type DateTimeUnit } from "luxon";
import type { CalendarDuration } from "../config/duration.ts";
import type { Interval } from "../config/schema.ts";
import type { RangeAxis } from "./range-axis.ts";
import { MAX_KEY, MIN_KEY, floorDiv, isFiniteKey, parseRangeKeyword, type RangeKey } from "./range-key.ts";

/**
 * Time arithmetic for range-time parents.
 *
 * Keys are exact microseconds (Postgres timestamps have microsecond precision, JS Dates only
 * milliseconds), as `bigint`:
 * - `timestamptz`: microseconds since 1970-01-01 00:00:00 UTC.
 * - `timestamp` (without time zone) and `date`: the wall clock in the table's time zone, counted as if it
 *   were UTC. The column stores wall clock times, so slots are laid on wall clock: an hour slot that a
 *   DST change skips still exists (rows may hold that wall time) and a repeated hour is one slot.
 * Slot boundaries (midnight, the 1st, Monday of an ISO week) fall in the table's IANA zone.
 */
export type TimeKeyType = "timestamptz" | "timestamp" | "date";

/**
 * Key type of a `format_type` name: `timestamp with time zone` (any precision, e.g. `timestamp(3) with
 * time zone`) -> `timestamptz`; `timestamp without time zone` -> `timestamp`; `date` -> `date`; else null.
 */
export function timeKeyTypeOf(formatType: string): TimeKeyType | null {
  const normalized = formatType.replace(/\(\s*\d+\s*\)/g, "").replace(/\s+/g, " ").trim().toLowerCase();
  switch (normalized) {
    case "timestamp with time zone":
    case "timestamptz":
      return "timestamptz";
    case "timestamp without time zone":
    case "timestamp":
      return "timestamp";
    case "date":
      return "date";
    default:
      return null;
  }
}

const UNIT = {
  hour: "hour",
  day: "day",
  week: "week",
  month: "month",
  quarter: "quarter",
  year: "year",
} as const satisfies Record<Interval, DateTimeUnit>;

/**
 * Start of the slot containing `instant`, in `instant`'s zone: the start of its hour, day, ISO week
 * (Monday 00:00), month, quarter or year. In a repeated hour (DST ends) the offset of `instant` is kept,
 * so the two 02:00 hours of Europe/Berlin's 2024-10-27 are two slots one UTC hour apart.
 */
export function slotStart(instant: DateTime, interval: Interval): DateTime {
  return instant.startOf(UNIT[interval]);
}

/**
 * Start of the slot after the one starting at `start`, in `start`'s zone. Days, weeks, months, quarters
 * and years use calendar arithmetic (a day is 23 or 25 hours across a DST change); hours are one
 * elapsed hour.
 */
export function nextSlotStart(start: DateTime, interval: Interval): DateTime {
  const stepped = start.plus({ [`${UNIT[interval]}s`]: 1 });
  const next = slotStart(stepped, interval);
  return next > start ? next : stepped;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * slotStart and nextSlotStart for UTC, on epoch milliseconds, without luxon: UTC has no DST, so an
 * hour or a day is a fixed length and months come from the UTC calendar. Planning 1,000 parents
 * calls these tens of thousands of times, where luxon's DateTime is the run's largest CPU cost.
 * Equal to slotStart / nextSlotStart in zone UTC (time-slots.test.ts compares them).
 */
export const utcSlots = {
  slotStart(ms: number, interval: Interval): number {
    switch (interval) {
      case "hour":
        return Math.floor(ms / HOUR_MS) * HOUR_MS;
      case "day":
        return Math.floor(ms / DAY_MS) * DAY_MS;
      case "week": {
        // 1970-01-01 was a Thursday: day d is (d + 3) mod 7 days after a Monday.
        const day = Math.floor(ms / DAY_MS);
        return (day - (((day + 3) % 7) + 7) % 7) * DAY_MS;
      }
      case "month":
      case "quarter":
      case "year": {
        const date = new Date(ms);
        const month = date.getUTCMonth();
        return utcMonthStart(date.getUTCFullYear(), interval === "month" ? month : interval === "quarter" ? month - (month % 3) : 0);
      }
    }
  },
  nextSlotStart(ms: number, interval: Interval): number {
    const start = utcSlots.slotStart(ms, interval);
    switch (interval) {
      case "hour":
        return start + HOUR_MS;
      case "day":
        return start + DAY_MS;
      case "week":
        return start + 7 * DAY_MS;
      case "month":
      case "quarter":
      case "year": {
        const date = new Date(start);
        return utcMonthStart(date.getUTCFullYear(), date.getUTCMonth() + (interval === "month" ? 1 : interval === "quarter" ? 3 : 12));
      }
    }
  },
} as const;

/** Epoch ms of the first of `month` (0-based, may pass 11) of `year`, 00:00 UTC. */
function utcMonthStart(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 1);
  return date.getTime();
}

/** Zone names that are UTC at every instant, for which utcSlots replaces luxon. */
const UTC_ZONES = new Set(["utc", "etc/utc"]);

const TIMESTAMP_LITERAL =
  /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?$/;
const DATE_LITERAL = /^(\d{4,})-(\d{2})-(\d{2})$/;

/**
 * Key of a bound literal as Postgres prints it with TimeZone = UTC: `2024-01-01 00:00:00+00`,
 * `2024-01-01 00:00:00.5+00` (timestamptz), `2024-01-01 00:00:00` (timestamp), `2024-01-01` (date);
 * `MINVALUE`/`-infinity` and `MAXVALUE`/`infinity` give the sentinels.
 * @throws Error when the literal does not match its key type (e.g. a BC date).
 */
export function parseTimeKey(literal: string, keyType: TimeKeyType): RangeKey {
  const keyword = parseRangeKeyword(literal);
  if (keyword !== null) return keyword;
  const text = literal.trim();
  if (text === "-infinity") return MIN_KEY;
  if (text === "infinity") return MAX_KEY;
  // Nothing is allocated for the failure path unless it fails: this runs for every bound of every
  // parent, 64,000 times for 1,000 parents.
  if (keyType === "date") {
    const m = DATE_LITERAL.exec(text);
    const key = m ? wallKey(Number(m[1]), Number(m[2]), Number(m[3]), 0, 0, 0) : null;
    if (key === null) throw unreadableBound(literal, keyType);
    return key;
  }
  const m = TIMESTAMP_LITERAL.exec(text);
  const hasOffset = m?.[8] !== undefined;
  if (!m || hasOffset !== (keyType === "timestamptz")) throw unreadableBound(literal, keyType);
  let key = wallKey(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (key === null) throw unreadableBound(literal, keyType);
  key += BigInt((m[7] ?? "").padEnd(6, "0") || "0");
  if (hasOffset) {
    const offsetSeconds = Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0);
    key -= BigInt((m[8] === "-" ? -1 : 1) * offsetSeconds) * 1_000_000n;
  }
  return key;
}

function unreadableBound(literal: string, keyType: TimeKeyType): Error {
  return new Error(`cannot read "${literal}" as a ${keyType} bound`);
}

/** Microseconds of a UTC wall clock; null when a field is out of range (Feb 30, hour 24). */
function wallKey(year: number, month: number, day: number, hour: number, minute: number, second: number): RangeKey | null {
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second);
  const valid =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day &&
    date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
  return valid ? BigInt(date.getTime()) * 1000n : null;
}

/**
 * Bound literal of a key: timestamptz -> UTC `YYYY-MM-DD HH:mm:ss+00`; timestamp -> wall clock
 * `YYYY-MM-DD HH:mm:ss`; date -> `YYYY-MM-DD`. Fractional seconds are written only when present
 * (`.5`, `.123456`), as Postgres prints them. Sentinels render as `MINVALUE` / `MAXVALUE`.
 * @throws Error for a date key that is not a midnight.
 */
export function renderTimeKey(key: RangeKey, keyType: TimeKeyType): string {
  if (key <= MIN_KEY) return "MINVALUE";
  if (key >= MAX_KEY) return "MAXVALUE";
  const seconds = floorDiv(key, 1_000_000n);
  const micros = key - seconds * 1_000_000n;
  const dt = DateTime.fromMillis(Number(seconds) * 1000, { zone: "utc" });
  if (keyType === "date") {
    if (micros !== 0n || dt.hour !== 0 || dt.minute !== 0 || dt.second !== 0) {
      throw new Error(`a date bound must be a midnight, got ${dt.toISO()}`);
    }
    return dt.toFormat("yyyy-MM-dd");
  }
  const fraction = micros === 0n ? "" : `.${micros.toString().padStart(6, "0").replace(/0+$/, "")}`;
  return `${dt.toFormat("yyyy-MM-dd HH:mm:ss")}${fraction}${keyType === "timestamptz" ? "+00" : ""}`;
}

/** Key of an instant: exact for timestamptz; the wall clock in `timeZone` for timestamp and date. */
export function instantToKey(instant: Date, keyType: TimeKeyType, timeZone: string): RangeKey {
  const ms = instant.getTime();
  if (keyType === "timestamptz") return BigInt(ms) * 1000n;
  const offsetMinutes = DateTime.fromMillis(ms, { zone: timeZone }).offset;
  return BigInt(ms + offsetMinutes * 60_000) * 1000n;
}

/** A range axis for range-time parents, plus the time-specific helpers the planners need. */
export interface TimeAxis extends RangeAxis {
  readonly keyType: TimeKeyType;
  readonly interval: Interval;
  readonly timeZone: string;
  /** Key of `now` (see instantToKey). */
  nowKey(now: Date): RangeKey;
  /** `key` minus a calendar duration, with calendar arithmetic in the table's zone. */
  minus(key: RangeKey, duration: CalendarDuration): RangeKey;
}

/**
 * The time axis of a parent: slots of `interval` in `timeZone` for a key column of `keyType`.
 * Names (suffixes) are from the lower bound in `timeZone`:
 * year `_p2024`, quarter `_p2024q1`, month `_p2024_01`, ISO week `_p2024w05` (ISO week-year), day
 * `_p2024_01_31`, hour `_p2024_01_31_1300`; a piece of a slot `_p20240115_120000` (plus `_<micros>` when
 * the lower bound has fractional seconds). For timestamptz, a lower bound in the second occurrence of a
 * wall time repeated when DST ends gets `_2` appended (`_p2024_10_27_0200` then `_p2024_10_27_0200_2`),
 * so the two hours have distinct names.
 */
export function timeAxis(keyType: TimeKeyType, interval: Interval, timeZone: string): TimeAxis {
  // timestamptz slots are laid in the real zone; wall clock keys are already local, laid in UTC.
  const zone = keyType === "timestamptz" ? timeZone : "utc";
  const toDateTime = (key: RangeKey) => DateTime.fromMillis(Number(floorDiv(key, 1000n)), { zone });
  const toKey = (dt: DateTime) => BigInt(dt.toMillis()) * 1000n;
  const utc = UTC_ZONES.has(zone.toLowerCase());
  const msOf = (key: RangeKey) => Number(floorDiv(key, 1000n));
  const repeatMark = (dt: DateTime) => (keyType === "timestamptz" && isRepeatedWallTime(dt) ? "_2" : "");
  return {
    keyType,
    interval,
    timeZone,
    lastSlotStart: MAX_KEY,
    parse: (literal) => parseTimeKey(literal, keyType),
    render: (key) => renderTimeKey(key, keyType),
    slotOf: (key) => (utc ? BigInt(utcSlots.slotStart(msOf(key), interval)) * 1000n : toKey(slotStart(toDateTime(key), interval))),
    nextSlot: (start) => (utc ? BigInt(utcSlots.nextSlotStart(msOf(start), interval)) * 1000n : toKey(nextSlotStart(toDateTime(start), interval))),
    alignedSuffix: (start) => {
      const dt = toDateTime(start);
      return ALIGNED_SUFFIX[interval](dt) + (interval === "hour" ? repeatMark(dt) : "");
    },
    unalignedSuffix: (lower) => {
      const dt = toDateTime(lower);
      const micros = lower - floorDiv(lower, 1_000_000n) * 1_000_000n;
      const fraction = micros === 0n ? "" : `_${micros.toString().padStart(6, "0")}`;
      return `${dt.toFormat("'_p'yyyyMMdd'_'HHmmss")}${fraction}${repeatMark(dt)}`;
    },
    nowKey: (now) => instantToKey(now, keyType, timeZone),
    minus: (key, duration) => {
      if (!isFiniteKey(key)) return key;
      return toKey(toDateTime(key).minus({ ...duration }));
    },
  };
}

const ALIGNED_SUFFIX = {
  year: (d) => d.toFormat("'_p'yyyy"),
  quarter: (d) => `${d.toFormat("'_p'yyyy")}q${d.quarter}`,
  month: (d) => d.toFormat("'_p'yyyy'_'MM"),
  week: (d) => d.toFormat("'_p'kkkk'w'WW"),
  day: (d) => d.toFormat("'_p'yyyy'_'MM'_'dd"),
  hour: (d) => d.toFormat("'_p'yyyy'_'MM'_'dd'_'HHmm"),
} as const satisfies Record<Interval, (d: DateTime) => string>;

/**
 * True when `dt`'s wall clock time already occurred earlier the same night, i.e. `dt` lies in the
 * second pass through a wall time repeated when DST ends (e.g. 02:30+01 on 2024-10-27 in Europe/Berlin).
 */
export function isRepeatedWallTime(dt: DateTime): boolean {
  const before = dt.minus({ hours: 3 });
  if (before.offset <= dt.offset) return false;
  const earlier = dt.minus({ minutes: before.offset - dt.offset });
  const wall = "yyyy-MM-dd HH:mm:ss.SSS";
  return earlier.toFormat(wall) === dt.toFormat(wall);
}
