import { describe, expect, it } from "vitest";
import { ArchiveError } from "../errors.ts";
import { parseManifest, type Manifest } from "./manifest.ts";

const valid: Manifest = {
  formatVersion: 1,
  parent: { schema: "public", name: "events" },
  partition: { schema: "public", name: "events_p2024_01" },
  boundExpression: "FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-02-01 00:00:00+00')",
  columns: [{ name: "createdAt", pgType: "timestamp with time zone", parquetType: "TIMESTAMPTZ" }],
  rows: 3,
  bytes: 1200,
  sha256: "a".repeat(64),
  objects: [{ key: "public/events/public/events_p2024_01/data.parquet", rows: 3, bytes: 1200, sha256: "a".repeat(64) }],
  partkeeperVersion: "0.1.0",
  createdAt: "2026-11-21T07:00:00.000Z",
  keyColumn: "createdAt",
  keyMin: "1704067200000000",
  keyMax: "1706745599999999",
};

describe("parseManifest", () => {
  it("accepts a valid manifest", () => {
    expect(parseManifest(JSON.parse(JSON.stringify(valid)), "s3://b/m.json")).toEqual(valid);
  });

  it("rejects wrong versions, non-UTC times, bad hashes and unknown fields, naming the place", () => {
    for (const bad of [
      { ...valid, formatVersion: 2 },
      { ...valid, createdAt: "2026-11-21T08:00:00+01:00" },
      { ...valid, sha256: "XYZ" },
      { ...valid, extra: true },
      { ...valid, rows: -1 },
    ]) {
      expect(() => parseManifest(bad, "s3://b/m.json")).toThrow(ArchiveError);
    }
    expect(() => parseManifest(null, "s3://b/m.json")).toThrow(/s3:\/\/b\/m\.json/);
  });
});
