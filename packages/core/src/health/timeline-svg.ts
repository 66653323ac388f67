import { displayName } from "../identifier.ts";
import { bytes as formatBytes, rows as formatRows } from "../run/format-summary.ts";
import { formatBound, formatBounds } from "./health-facts.ts";
import type { ParentHealth, PartitionHealth } from "./health-types.ts";
import { escapeHtml } from "./html-escape.ts";
import { STATE_STYLES } from "./state-styles.ts";

// Geometry in SVG user units; the SVG scales to its container's width.
const WIDTH = 960;
/** Room above the bars for the scale's label. */
const TOP = 14;
const BARS = 80;
const GAP = 6;
const STRIP = 26;
const LABELS = 18;
const HEIGHT = BARS + GAP + STRIP + LABELS;

function sizeTitle(x: PartitionHealth): string {
  const size = x.bytes === null ? "size unknown" : formatBytes(x.bytes);
  const rows = x.rows === null ? "" : `, ${formatRows(x.rows)} rows`;
  return `${x.partition.name}: ${size}${x.state === "archived" ? " (archived: Parquet object)" : ""}${rows}`;
}

/**
 * One parent's partitions as an inline SVG, x in the report's order (bound order), one slot per partition:
 * above, a bar per partition whose height is its bytes against the parent's largest (archived ones: the
 * Parquet object's bytes, drawn pale and dashed); below, the timeline strip, one rect per partition filled
 * with its state's colour and carrying `data-state` and `data-partition` (the partition's name); under it the
 * first lower and last upper range bound and a `now` mark at the current partition. Hover titles give each
 * partition's name, state, bounds, size and rows. Empty string when the parent has no partitions.
 */
export function timelineSvg(p: ParentHealth): string {
  const parts = p.partitionList;
  if (parts.length === 0) return "";
  const slot = WIDTH / parts.length;
  // Gaps between rects only while slots are wide enough to keep one.
  const gap = slot >= 6 ? Math.min(2, slot / 6) : 0;
  const largest = Math.max(1, ...parts.map((x) => x.bytes ?? 0));
  const el: string[] = [];
  parts.forEach((x, i) => {
    const left = (i * slot).toFixed(2);
    const width = (slot - gap).toFixed(2);
    const { fill } = STATE_STYLES[x.state];
    if (x.bytes !== null && x.bytes > 0) {
      const height = Math.max(1, (x.bytes / largest) * (BARS - TOP));
      const archived = x.state === "archived" ? ` fill-opacity="0.45" stroke="${fill}" stroke-dasharray="3 2"` : "";
      el.push(
        `<rect class="size" x="${left}" y="${(BARS - height).toFixed(2)}" width="${width}" height="${height.toFixed(2)}" fill="${fill}"${archived} data-bytes="${x.bytes}"><title>${escapeHtml(sizeTitle(x))}</title></rect>`,
      );
    }
    const title = `${x.partition.name} — ${x.state} — ${formatBounds(p.strategy, x)}`;
    el.push(
      `<rect class="partition" x="${left}" y="${BARS + GAP}" width="${width}" height="${STRIP}" rx="${Math.min(3, slot / 4).toFixed(1)}" fill="${fill}" data-state="${x.state}" data-partition="${escapeHtml(x.partition.name)}"><title>${escapeHtml(title)}</title></rect>`,
    );
  });
  const baseline = BARS + GAP + STRIP + 14;
  const text = (x: number, anchor: string, label: string, cls = "axis") =>
    `<text class="${cls}" x="${x.toFixed(2)}" y="${baseline}" text-anchor="${anchor}">${escapeHtml(label)}</text>`;
  const current = parts.findIndex((x) => x.state === "current");
  const now = current < 0 ? null : (current + 0.5) * slot - gap / 2;
  // A bound label would overprint the `now` mark near either end: the mark wins.
  const clear = (x: number) => now === null || Math.abs(now - x) > 110;
  const first = parts.find((x) => x.lower !== null);
  const last = parts.findLast((x) => x.upper !== null);
  if (first?.lower && clear(0)) el.push(text(0, "start", formatBound(p.strategy, first.lower)));
  if (last?.upper && clear(WIDTH)) el.push(text(WIDTH, "end", formatBound(p.strategy, last.upper)));
  if (now !== null) el.push(text(now, "middle", "▲ now", "now"));
  el.push(`<text class="axis" x="0" y="${TOP - 4}">bars: size, largest ${escapeHtml(formatBytes(largest))}</text>`);
  el.push(`<line x1="0" x2="${WIDTH}" y1="${BARS}" y2="${BARS}" class="baseline"/>`);
  const label = `${displayName(p.parent)}: ${parts.length} partitions by state and size`;
  return `<svg class="timeline" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(label)}" xmlns="http://www.w3.org/2000/svg">${el.join("")}</svg>`;
}
