import { describe, expect, test } from "vitest";
import { displayName } from "../identifier.ts";
import { PARTITION_STATES, type PartitionState } from "./health-types.ts";
import { escapeHtml } from "./html-escape.ts";
import { renderHtmlReport } from "./html-report.ts";
import { EVENTS, TRICKY, monthlyPartitions, parentHealth, sampleReport } from "./test-fixtures.ts";

/** The HTML of the section `data-parent="<escaped name>"`. */
function section(html: string, parent: string): string {
  const start = html.indexOf(`<section class="parent" data-parent="${escapeHtml(parent)}">`);
  expect(start).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf("</section>", start));
}

/** Partition rects per state in a section. */
function rectsByState(html: string): Partial<Record<PartitionState, number>> {
  const counts: Partial<Record<PartitionState, number>> = {};
  for (const [, state] of html.matchAll(/<rect class="partition"[^>]* data-state="([a-z]+)"/g)) {
    counts[state as PartitionState] = (counts[state as PartitionState] ?? 0) + 1;
  }
  return counts;
}

describe("escapeHtml", () => {
  test("escapes the five characters that end text or a quoted attribute", () => {
    expect(escapeHtml(`<b>"a"&'b'</b> ü`)).toBe("&lt;b&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/b&gt; ü");
  });
});

describe("renderHtmlReport", () => {
  const report = sampleReport();
  const html = renderHtmlReport(report);

  test("one section per parent, one rect per partition coloured by its state, in the report's order", () => {
    expect(html.match(/<section class="parent"/g)).toHaveLength(3);
    const events = section(html, displayName(EVENTS));
    expect(rectsByState(events)).toEqual({ archived: 3, expiring: 1, past: 2, current: 1, future: 4, default: 1 });
    const names = [...events.matchAll(/data-partition="([^"]*)"/g)].map(([, name]) => name);
    expect(names).toEqual(report.parents[0]!.partitionList.map((p) => p.partition.name));
    expect(events).toContain('fill="#1e8e3e" data-state="current" data-partition="events_p2026_11"');
  });

  test("a bar per partition with its bytes; archived ones drawn as archived, with their Parquet bytes", () => {
    const events = section(html, displayName(EVENTS));
    const bars = [...events.matchAll(/<rect class="size"[^>]* data-bytes="(\d+)"><title>([^<]*)<\/title>/g)];
    expect(bars.map(([, bytes]) => Number(bytes))).toEqual(report.parents[0]!.partitionList.map((p) => p.bytes));
    expect(bars[0]![2]).toBe("events_p2026_05: 6.4 kB (archived: Parquet object), 1,000 rows");
    expect(events.match(/stroke-dasharray/g)).toHaveLength(3);
  });

  test("health values in cells with data-metric, warnings marked", () => {
    const events = section(html, displayName(EVENTS));
    expect(events).toContain('<td data-metric="defaultPartitionRows" class="warn">12</td>');
    expect(events).toContain('<td data-metric="partitionsAhead" class="ok">4 until 2027-04-01</td>');
    expect(events).toContain('<td data-metric="failedRuns24h" class="bad">1</td>');
    expect(events).toContain('<td data-metric="lastSuccess.refresh-stats" class="ok">never</td>');
    expect(section(html, "public.gone")).toContain('PROBLEM: <span data-metric="problem">does not exist</span>');
    expect(section(html, "public.gone")).not.toContain("<svg");
  });

  test("every name and message is escaped, so it renders as text", () => {
    expect(html).toContain(`data-parent="Sales Ünïcode.&lt;b&gt;&quot;hej&quot;&amp;&#39;x&#39;&lt;/b&gt;"`);
    expect(html).toContain("<h2>Sales Ünïcode.&lt;b&gt;&quot;hej&quot;&amp;&#39;x&#39;&lt;/b&gt;<span");
    expect(html).toContain('data-partition="&lt;i&gt;&amp;"');
    expect(html).toContain("<td>public.&lt;weekly&gt;</td>");
    expect(html).toContain("canceling statement due to lock timeout on &quot;weekly&quot;");
    for (const raw of [TRICKY.name, "<i>&", "<weekly>", '"weekly"']) expect(html).not.toContain(raw);
  });

  test("self-contained: no script, no external asset", () => {
    expect(html.startsWith("<!doctype html>\n")).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|\bsrc=|\bhref=|url\(|@import/i);
  });

  test("materialized views: age of the last refresh and the last attempt", () => {
    expect(html).toContain('<tr data-view="public.daily_totals"><td>public.daily_totals</td><td data-metric="ageSeconds" class="ok">2 h ago</td>');
    expect(html).toContain('<td data-metric="lastStatus" class="ok">ok in 1.2 s</td>');
    expect(html).toContain('<td data-metric="ageSeconds" class="warn">never</td><td data-metric="lastStatus" class="ok">never</td>');
  });

  test("a long timeline keeps one rect per partition", () => {
    const states = PARTITION_STATES.filter((s) => s !== "default" && s !== "live").flatMap((s) => Array<PartitionState>(100).fill(s));
    const long = renderHtmlReport({ at: report.at, parents: [parentHealth(EVENTS, monthlyPartitions(EVENTS, "1990-01", states))], materializedViews: [] });
    expect(rectsByState(long)).toEqual({ archived: 100, expiring: 100, past: 100, current: 100, future: 100, restored: 100 });
    expect(long).toContain("<details><summary>600 partitions</summary>");
  });
});
