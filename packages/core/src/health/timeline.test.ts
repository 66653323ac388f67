import { describe, expect, test } from "vitest";
import { qualifiedName } from "../identifier.ts";
import { formatAge, formatInstant } from "./health-facts.ts";
import type { HealthReport, PartitionState } from "./health-types.ts";
import { STATE_STYLES } from "./state-styles.ts";
import { EVENTS, monthlyPartitions, parentHealth, sampleReport } from "./test-fixtures.ts";
import { formatHealth } from "./timeline.ts";

const ESC = "\x1b";

/** The report with one parent whose partitions have `states` in order. */
function timelineOf(states: ReadonlyArray<PartitionState>): HealthReport {
  return { at: "2026-11-21T12:00:00Z", parents: [parentHealth(EVENTS, monthlyPartitions(EVENTS, "2000-01", states))], materializedViews: [] };
}

/** The states a timeline line shows, `░×3` expanded, in order. */
function expand(line: string): string {
  return [...line.trim().matchAll(/(.)(?:×(\d+))?/gu)].map(([, glyph, count]) => glyph!.repeat(Number(count ?? 1))).join("");
}

const timelineLines = (text: string) => text.split("\n").filter((l) => l.startsWith("  ") && !l.includes(":"));

describe("formatHealth", () => {
  test("plain text: header, facts, timeline per parent, legend, materialized views", () => {
    expect(formatHealth(sampleReport(), { color: false })).toBe(
      [
        "partkeeper status at 2026-11-21 12:00 UTC",
        "public.events (range-time): partitions 9, ahead 4 until 2027-04-01, default-partition rows 12, archive backlog 1 (oldest events_p2026_08), " +
          "last maintain 60 min ago, last archive 33 h ago, last refresh-stats never, failed runs (24 h) 1",
        "  ···!▒▒█░░░░D",
        `Sales Ünïcode.<b>"hej"&'x'</b> (list): partitions 3, default-partition rows 0, archive backlog 0, ` +
          "last maintain 60 min ago, last archive 33 h ago, last refresh-stats never, failed runs (24 h) 0",
        "  ■■D",
        "public.gone (hash): PROBLEM: does not exist",
        "legend: · archived  ! expiring  ▒ past  █ current  ░ future  D default  ■ live  (x×N: N partitions in a row)",
        "materialized views:",
        "  public.daily_totals: last refresh 2 h ago, last attempt ok in 1.2 s",
        `  public.<weekly>: last refresh 3 d ago, last attempt failed in 0.3 s: canceling statement due to lock timeout on "weekly"`,
        "  public.monthly: last refresh never, last attempt never",
        "",
      ].join("\n"),
    );
  });

  test("colour adds ANSI codes around the same text, and only when asked", () => {
    const plain = formatHealth(sampleReport(), { color: false });
    const colored = formatHealth(sampleReport(), { color: true });
    expect(plain).not.toContain(ESC);
    expect(colored).toContain(`${ESC}[1;31mPROBLEM: does not exist${ESC}[0m`);
    expect(colored).toContain(`${ESC}[1;32m█${ESC}[0m${ESC}[36m░░░░${ESC}[0m`);
    expect(colored.replaceAll(/\x1b\[[0-9;]*m/g, "")).toBe(plain);
  });

  test("a long timeline is compressed to the width by runs, the longest first, every partition counted", () => {
    const states: PartitionState[] = [
      ...Array<PartitionState>(150).fill("archived"),
      "expiring",
      "expiring",
      ...Array<PartitionState>(40).fill("past"),
      "current",
      ...Array<PartitionState>(6).fill("future"),
    ];
    const lines = timelineLines(formatHealth(timelineOf(states), { color: false, width: 30 }));
    expect(lines).toEqual(["  ·×150!!▒×40█░░░░░░"]);
    expect(expand(lines[0]!)).toBe(states.map((s) => STATE_STYLES[s].glyph).join(""));
  });

  test("what does not fit even compressed is wrapped, never cut", () => {
    const states = Array.from({ length: 100 }, (_, i): PartitionState => (i % 2 ? "restored" : "past"));
    const lines = timelineLines(formatHealth(timelineOf(states), { color: false, width: 20 }));
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(20);
    expect(lines.map(expand).join("")).toBe("▒R".repeat(50));
  });

  test("the default width is 72 columns, indent included, also for a terminal without a size (0)", () => {
    const lines = timelineLines(formatHealth(timelineOf(Array<PartitionState>(500).fill("future")), { color: false }));
    expect(lines).toEqual(["  ░×500"]);
    const wide = timelineLines(formatHealth(timelineOf(Array<PartitionState>(70).fill("future")), { color: false }));
    expect(wide).toEqual([`  ${"░".repeat(70)}`]);
    const over = timelineLines(formatHealth(timelineOf(Array<PartitionState>(71).fill("future")), { color: false }));
    expect(over).toEqual(["  ░×71"]);
    const sizeless = timelineLines(formatHealth(timelineOf(Array<PartitionState>(70).fill("future")), { color: false, width: 0 }));
    expect(sizeless).toEqual(wide);
  });

  test("a parent without partitions has no timeline, and a report without partitions no legend", () => {
    const empty = parentHealth(qualifiedName("public", "empty"), [], { strategy: "hash", partitionsAhead: null });
    const text = formatHealth({ at: "2026-11-22T00:00:00Z", parents: [empty], materializedViews: [] }, { color: false });
    expect(text).toBe(
      "partkeeper status at 2026-11-22\npublic.empty (hash): partitions 0, archive backlog 0, last maintain 13 h ago, last archive 1 d ago, last refresh-stats never, failed runs (24 h) 0\n",
    );
  });
});

describe("health-facts", () => {
  test("formatInstant: a date at midnight UTC, minutes otherwise, anything else unchanged", () => {
    expect(formatInstant("2027-03-01T00:00:00Z")).toBe("2027-03-01");
    expect(formatInstant("2027-02-28T23:00:00.000Z")).toBe("2027-02-28 23:00 UTC");
    expect(formatInstant("-infinity")).toBe("-infinity");
    expect(formatInstant("")).toBe("");
  });

  test("formatAge switches unit at one and a half of the next", () => {
    expect([0, 89, 90, 5399, 5400, 129_599, 129_600].map(formatAge)).toEqual(["0 s", "89 s", "1 min", "89 min", "1 h", "35 h", "1 d"]);
  });
});
