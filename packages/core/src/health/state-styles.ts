import type { PartitionState } from "./health-types.ts";

/** How one partition state is drawn: by `partkeeper status` in a terminal and by the HTML report. */
export interface StateStyle {
  /** One terminal column (a BMP character), distinct per state, so the timeline reads without colour. */
  readonly glyph: string;
  /** SGR parameters of the ANSI colour, e.g. `1;31` (bold red). */
  readonly ansi: string;
  /** CSS colour of the partition's rect in the HTML report. */
  readonly fill: string;
}

/**
 * Glyph and colours per state, one table for both renderers so the terminal and the page agree.
 * Time runs left to right, old to new: grey (gone) -> red (overdue for archive) -> blue -> green (now) -> light (premade).
 */
export const STATE_STYLES = {
  archived: { glyph: "·", ansi: "90", fill: "#a7adb4" },
  expiring: { glyph: "!", ansi: "1;31", fill: "#d93025" },
  past: { glyph: "▒", ansi: "34", fill: "#4c78a8" },
  current: { glyph: "█", ansi: "1;32", fill: "#1e8e3e" },
  future: { glyph: "░", ansi: "36", fill: "#9fd3e0" },
  restored: { glyph: "R", ansi: "35", fill: "#9334e6" },
  default: { glyph: "D", ansi: "33", fill: "#f2a900" },
  live: { glyph: "■", ansi: "32", fill: "#5bb974" },
} as const satisfies Record<PartitionState, StateStyle>;
