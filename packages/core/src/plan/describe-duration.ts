import { DURATION_UNITS, type CalendarDuration } from "../config/duration.ts";

/** `{ months: 6 }` -> `6 months`; `{ years: 1, months: 2 }` -> `1 year 2 months`; `{ days: 1 }` -> `1 day`. */
export function describeDuration(duration: CalendarDuration): string {
  const parts: string[] = [];
  for (const unit of DURATION_UNITS) {
    const n = duration[unit];
    if (n) parts.push(`${n} ${n === 1 ? unit.slice(0, -1) : unit}`);
  }
  return parts.join(" ");
}
