import { DateTime, Duration } from "luxon";

/** Calendar units partkeeper accepts in a retention, widest first. */
export const DURATION_UNITS = ["years", "quarters", "months", "weeks", "days", "hours"] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number];

/** A calendar duration such as `{ months: 6 }`; applied with calendar arithmetic in the table's time zone. */
export type CalendarDuration = Readonly<Partial<Record<DurationUnit, number>>>;

/**
 * Parses `"6 months"`, `"1 year 2 months"`, `"30 days"` or ISO-8601 (`"P6M"`, `"P30D"`, `"PT12H"`).
 * Returns null when the text is neither form or is zero.
 */
export function parseCalendarDuration(text: string): CalendarDuration | null {
  const trimmed = text.trim();
  if (/^P/i.test(trimmed)) {
    const iso = Duration.fromISO(trimmed.toUpperCase());
    if (!iso.isValid || iso.minutes || iso.seconds || iso.milliseconds) return null;
    return nonZero(pick({ ...iso.toObject() }));
  }
  const parts: Record<string, number> = {};
  let rest = trimmed;
  for (;;) {
    const m = /^(\d+)\s*(hour|day|week|month|quarter|year)s?\s*,?\s*/i.exec(rest);
    if (!m) break;
    const unit = `${m[2]!.toLowerCase()}s`;
    parts[unit] = (parts[unit] ?? 0) + Number(m[1]);
    rest = rest.slice(m[0].length);
  }
  if (rest.length > 0 || Object.keys(parts).length === 0) return null;
  return nonZero(parts as CalendarDuration);
}

function pick(o: Partial<Record<string, number>>): CalendarDuration {
  const out: Partial<Record<DurationUnit, number>> = {};
  for (const unit of DURATION_UNITS) if (o[unit]) out[unit] = o[unit];
  return out;
}

function nonZero(d: CalendarDuration): CalendarDuration | null {
  return Object.values(d).some((v) => v && v > 0) ? Object.freeze(d) : null;
}

/**
 * Approximate length in hours (a month counts 30 days, a quarter 91, a year 365), used only to
 * compare a retention with an interval on the same scale.
 */
export function approximateHours(d: CalendarDuration): number {
  return (
    (d.years ?? 0) * 365 * 24 +
    (d.quarters ?? 0) * 91 * 24 +
    (d.months ?? 0) * 30 * 24 +
    (d.weeks ?? 0) * 7 * 24 +
    (d.days ?? 0) * 24 +
    (d.hours ?? 0)
  );
}

/** `instant` plus `duration`, with calendar arithmetic in UTC (a month after Jan 31 is Feb 28 or 29). */
export function addCalendarDuration(instant: Date, duration: CalendarDuration): Date {
  return DateTime.fromJSDate(instant, { zone: "UTC" }).plus(duration).toJSDate();
}
