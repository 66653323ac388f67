import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { displayName, readHealth, renderHtmlReport, runJob, runRefreshStats, type ConfigInput, type HealthReport, type PartitionState } from "@partkeeper/core";
import { createTestDatabase, useTestS3 } from "./helpers.ts";
import { testJobContext } from "./job-context.ts";

/**
 * The HTML report of a real database, opened in headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core; .ci/run installs it): a monthly parent whose name needs escaping everywhere, with
 * archived, expiring, past, current and future partitions and rows in its default partition; a hash
 * parent; a materialized view. Asserts on the DOM as the browser parsed it, and on a screenshot.
 */

/** Debian's package: playwright-core ships no browser. */
const CHROMIUM = "/usr/bin/chromium";

const NOW = new Date("2026-11-21T12:00:00Z");
const SCHEMA = "Sales Ünïcode";
/** `<`, `&` and both quotes: the page must show it as text, never as markup. */
const TABLE = `<b>"ev"&'x'</b>`;
const VIEW = "<daily> & co";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const VIEWPORT = { width: 1200, height: 900 };

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

describe("partkeeper report --html in a browser", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();
  const parent = `${quote(SCHEMA)}.${quote(TABLE)}`;
  await sql.unsafe(`
    create schema ${quote(SCHEMA)};
    create table ${parent} (id bigint not null, at timestamptz not null, body text) partition by range (at);
    create table todos (user_id bigint not null, title text) partition by hash (user_id);
  `);
  // January to October 2026, one partition each; rows every hour.
  for (let month = 1; month <= 10; month++) {
    const bound = (m: number) => `2026-${String(m).padStart(2, "0")}-01`;
    await sql.unsafe(`create table ${quote(SCHEMA)}.${quote(`${TABLE}_p2026_${String(month).padStart(2, "0")}`)} partition of ${parent} for values from ('${bound(month)}') to ('${bound(month + 1)}')`);
  }
  await sql.unsafe(`insert into ${parent} select g, timestamptz '2026-01-01' + g * interval '1 hour', repeat('x', 200) from generate_series(0, 7000) g`);
  const config: ConfigInput = {
    archive: { location },
    tables: [
      { schema: SCHEMA, table: TABLE, strategy: "range-time", interval: "month", premake: 3, retention: "3 months" },
      { table: "todos", strategy: "hash", modulus: 4 },
    ],
    stats: { materializedViews: [{ view: VIEW }] },
  };
  // Archived a month earlier: January to June went to S3; at NOW July has expired too and waits (the backlog).
  const monthEarlier = await testJobContext(url, config, { now: new Date("2026-10-21T12:00:00Z") });
  const ctx = await testJobContext(url, config, { now: NOW });
  const dir = await mkdtemp(path.join(os.tmpdir(), "partkeeper-report-"));
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  let report: HealthReport;
  const file = path.join(dir, "health.html");

  it("reads the health of the maintained, archived and refreshed database", async () => {
    expect((await runJob(ctx, { job: "maintain", dryRun: false })).ok).toBe(true);
    const archive = await runJob(monthEarlier, { job: "archive", dryRun: false });
    expect(archive.ok, JSON.stringify(archive.parents)).toBe(true);
    await sql.unsafe(`insert into ${parent} values (-1, '2031-01-01', 'far ahead'), (-2, '2031-02-01', 'far ahead'), (-3, '2019-01-01', 'long ago')`);
    await sql.unsafe(`create materialized view ${quote(VIEW)} as select count(*) as n from ${parent}`);
    expect((await runRefreshStats(ctx, { dryRun: false })).ok).toBe(true);

    report = await readHealth(ctx);
    const states = report.parents[0]!.partitionList.map((p) => p.state);
    const count = (state: PartitionState) => states.filter((s) => s === state).length;
    expect({ archived: count("archived"), expiring: count("expiring"), past: count("past"), current: count("current"), future: count("future") }).toEqual({
      archived: 6,
      expiring: 1,
      past: 3,
      current: 1,
      future: 3,
    });
    expect(report.parents[0]!.defaultPartitionRows).toBe(3);
    await writeFile(file, renderHtmlReport(report));
  });

  it("renders in Chromium: a section per parent, a rect per partition by state, health values, escaped names as text", async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does it in CI)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.goto(pathToFileURL(file).href);

    const sections = page.locator("section.parent");
    expect(await sections.count()).toBe(report.parents.length);
    for (const [i, p] of report.parents.entries()) {
      const section = sections.nth(i);
      // The browser's parse of the escaped attribute is the name itself.
      expect(await section.getAttribute("data-parent")).toBe(displayName(p.parent));
      expect(await section.locator("rect[data-state]").count()).toBe(p.partitionList.length);
      for (const state of new Set(p.partitionList.map((x) => x.state))) {
        expect(await section.locator(`rect[data-state="${state}"]`).count()).toBe(p.partitionList.filter((x) => x.state === state).length);
      }
      expect(await section.locator("rect[data-partition]").first().getAttribute("data-partition")).toBe(p.partitionList[0]!.partition.name);
    }

    const events = sections.nth(0);
    expect(await events.locator('rect[data-state="future"]').count()).toBe(report.parents[0]!.partitionsAhead);
    expect(await events.locator('td[data-metric="defaultPartitionRows"]').textContent()).toBe("3");
    expect(await events.locator('td[data-metric="archiveBacklog"]').textContent()).toBe(`1 (oldest ${TABLE}_p2026_07)`);
    expect(await events.locator("h2").textContent()).toBe(`${SCHEMA}.${TABLE}range-time`);
    // Text, not markup: no <b> element came out of the name.
    expect(await page.locator("main b").count()).toBe(0);
    expect(await page.locator(`tr[data-view] td`).first().textContent()).toBe(`public.${VIEW}`);
    expect(await page.locator('tr[data-view] td[data-metric="lastStatus"]').textContent()).toMatch(/^ok in \d+\.\d s$/);
    expect(await page.title()).toBe("partkeeper health at 2026-11-21 12:00 UTC");

    const png = path.join(dir, "health.png");
    await page.screenshot({ path: png, fullPage: true });
    const bytes = await readFile(png);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // IHDR: width and height, big-endian, after the signature and the chunk's length and type.
    expect(bytes.readUInt32BE(16)).toBe(VIEWPORT.width);
    expect(bytes.readUInt32BE(20)).toBeGreaterThan(600);
    expect((await stat(png)).size).toBeGreaterThan(20_000);
  });
});
