import { describe, expect, it } from "vitest";
import { parseCalendarDuration } from "./duration.ts";
import { configJsonSchema } from "./json-schema.ts";
import { parseConfig } from "./load-config.ts";

const table = (fields: Record<string, unknown>) => ({ tables: [{ table: "events", ...fields }] });
const errorOf = (input: unknown) => {
  try {
    parseConfig(input, "partkeeper.config.json");
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("config validation", () => {
  it("fills defaults", () => {
    const config = parseConfig(table({ strategy: "range-time", interval: "month" }));
    expect(config.lockTimeoutMs).toBe(2000);
    expect(config.tables[0]).toMatchObject({ parent: { schema: "public", name: "events" }, premake: 4, timeZone: "UTC", defaultPartition: true, archive: { enabled: true } });
  });

  it("names the field and the problem", () => {
    expect(errorOf(table({ strategy: "range-tme" }))).toMatch(/tables\.0\.strategy: strategy must be one of range-time, range-integer, list, hash/);
    expect(errorOf(table({ strategy: "range-time", interval: "month", premake: -1 }))).toMatch(/tables\.0\.premake: must be 0 or more/);
    expect(errorOf(table({ strategy: "range-time", interval: "month", retention: "2 weeks" }))).toMatch(
      /tables\.0\.retention: is shorter than one month interval/,
    );
    expect(errorOf(table({ strategy: "range-time", interval: "day", retention: "soon" }))).toMatch(/tables\.0\.retention: "soon" is not a duration/);
    expect(errorOf(table({ strategy: "range-time", interval: "day", timeZone: "Mars/Olympus" }))).toMatch(/tables\.0\.timeZone: is not an IANA time zone/);
    expect(errorOf(table({ strategy: "hash", modulus: 4, premkae: 2 }))).toMatch(/tables\.0: Unrecognized key: "premkae"/);
    expect(errorOf(table({ strategy: "hash", modulus: 4, defaultPartition: true }))).toMatch(/tables\.0\.defaultPartition: hash-partitioned tables cannot have a default partition/);
    expect(errorOf(table({ strategy: "range-integer", step: 100, retention: 10 }))).toMatch(/tables\.0\.retention: is shorter than one step/);
    expect(errorOf({ tables: [] })).toMatch(/tables: must list at least one table/);
    expect(errorOf(table({ strategy: "list", table: "x".repeat(64) }))).toMatch(/tables\.0\.table: must be at most 63 bytes/);
    expect(errorOf({ tables: [{ table: "a", strategy: "hash", modulus: 2 }, { table: "a", strategy: "hash", modulus: 2 }] })).toMatch(/tables\.1\.table: is listed twice/);
  });

  it("validates stats: defaults, and each bad field named", () => {
    const hash = { strategy: "hash", modulus: 2 };
    expect(parseConfig(table(hash)).stats).toEqual({ materializedViews: [], analyze: { parents: true, parentsEvery: { days: 1 }, partitions: true }, budgetSeconds: 600 });
    const withView = parseConfig({ ...table(hash), stats: { materializedViews: [{ view: "event_counts", every: "1 hour" }] } });
    expect(withView.stats.materializedViews).toEqual([{ view: { schema: "public", name: "event_counts" }, concurrently: "auto", every: { hours: 1 } }]);
    const stats = (value: unknown) => errorOf({ ...table(hash), stats: value });
    expect(stats({ materializedViews: [{ view: "v", concurrently: "sometimes" }] })).toMatch(/stats\.materializedViews\.0\.concurrently: must be one of auto, always, never/);
    expect(stats({ materializedViews: [{ view: "" }] })).toMatch(/stats\.materializedViews\.0\.view: must not be empty/);
    expect(stats({ materializedViews: [{ view: "v", every: "often" }] })).toMatch(/stats\.materializedViews\.0\.every: "often" is not a duration/);
    expect(stats({ budgetSeconds: 900 })).toMatch(/stats\.budgetSeconds: .*840/);
    expect(stats({ analyze: { parents: "yes" } })).toMatch(/stats\.analyze\.parents: .*boolean/i);
  });

  it("requires an archive location when a table archives", () => {
    expect(errorOf(table({ strategy: "range-time", interval: "day", retention: "30 days" }))).toMatch(/archive\.location: is required because tables\.0 archives/);
    expect(errorOf({ archive: { location: "https://bucket" }, ...table({ strategy: "hash", modulus: 2 }) })).toMatch(/archive\.location: archive location "https:\/\/bucket" is not valid: use s3:\/\/bucket\/prefix/);
    expect(() => parseConfig(table({ strategy: "range-time", interval: "day", retention: "30 days", archive: { enabled: false } }))).not.toThrow();
  });

  it("archive.parquetVersion: v1 by default, v2 when chosen, anything else named", () => {
    const hash = table({ strategy: "hash", modulus: 2 });
    expect(parseConfig({ archive: { location: "s3://bucket/archive" }, ...hash }).archive).toMatchObject({ parquetVersion: "v1" });
    expect(parseConfig({ archive: { location: "s3://bucket/archive", parquetVersion: "v2" }, ...hash }).archive).toMatchObject({ parquetVersion: "v2" });
    expect(errorOf({ archive: { location: "s3://bucket/archive", parquetVersion: "2.0" }, ...hash })).toMatch(/archive\.parquetVersion: must be one of v1, v2/);
    // --archive and PARTKEEPER_ARCHIVE (every deployed function) replace the location only.
    const overridden = parseConfig({ archive: { location: "s3://bucket/archive", parquetVersion: "v2", partSize: "1GB" }, ...hash }, "config", "s3://other/prefix");
    expect(overridden.archive).toMatchObject({ location: { bucket: "other" }, parquetVersion: "v2", partSize: 1024 ** 3 });
    expect(parseConfig(hash, "config", "s3://other/prefix").archive).toMatchObject({ location: { bucket: "other" }, parquetVersion: "v1" });
  });

  it("accepts names with quotes, spaces, upper case and unicode as they are", () => {
    const config = parseConfig({ tables: [{ schema: "Sales Ünïcode", table: 'hej"hej Événements', strategy: "list", values: ["a"] }] });
    expect(config.tables[0]).toMatchObject({ parent: { schema: "Sales Ünïcode", name: 'hej"hej Événements' } });
  });

  it("parses retention in words and ISO-8601", () => {
    expect(parseCalendarDuration("6 months")).toEqual({ months: 6 });
    expect(parseCalendarDuration("1 year 2 months")).toEqual({ years: 1, months: 2 });
    expect(parseCalendarDuration("P6M")).toEqual({ months: 6 });
    expect(parseCalendarDuration("P1Y2M10D")).toEqual({ years: 1, months: 2, days: 10 });
    expect(parseCalendarDuration("PT12H")).toEqual({ hours: 12 });
    expect(parseCalendarDuration("0 days")).toBeNull();
    expect(parseCalendarDuration("PT5M")).toBeNull();
    expect(parseCalendarDuration("forever")).toBeNull();
  });

  it("exports a JSON Schema for editors", () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(schema.required).toContain("tables");
    expect(JSON.stringify(schema)).toContain('"range-time"');
  });
});

describe("shipped JSON Schema", () => {
  it("matches the zod schema (run `npm run schema` after changing it)", async () => {
    const { readFile } = await import("node:fs/promises");
    const shipped = JSON.parse(await readFile(new URL("../../partkeeper.schema.json", import.meta.url), "utf8"));
    expect(shipped).toEqual(configJsonSchema());
  });
});
