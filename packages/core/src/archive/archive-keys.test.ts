import { describe, expect, it } from "vitest";
import { qualifiedName } from "../identifier.ts";
import { archiveKeys, dataKey, encodeKeySegment, partKey } from "./archive-keys.ts";

describe("archiveKeys", () => {
  const parent = qualifiedName("public", "events");

  it("defaults the prefix to the parent's schema and table", () => {
    expect(archiveKeys({ parent, partition: qualifiedName("public", "events_p2024_01") })).toEqual({
      directory: "public/events/public/events_p2024_01",
      data: "public/events/public/events_p2024_01/data.parquet",
      manifest: "public/events/public/events_p2024_01/manifest.json",
    });
  });

  it("encodes every segment: quotes, spaces, slashes, unicode, dots", () => {
    const keys = archiveKeys({
      parent: qualifiedName("my schema", 'Événements "x"'),
      partition: qualifiedName("a/b", ".."),
      policyPrefix: "/archive/Prod data//",
    });
    expect(keys.data).toBe("archive/Prod%20data/a%2Fb/%2E%2E/data.parquet");
    expect(archiveKeys({ parent: qualifiedName("my schema", 'Événements "x"'), partition: qualifiedName("s", "p") }).directory).toBe(
      "my%20schema/%C3%89v%C3%A9nements%20%22x%22/s/p",
    );
  });

  it("keeps distinct names distinct", () => {
    expect(encodeKeySegment("a%2Fb")).not.toBe(encodeKeySegment("a/b"));
    expect(encodeKeySegment(".")).toBe("%2E");
  });

  it("names the parts of an attempt after its data object, numbered in key order", () => {
    const keys = archiveKeys({ parent, partition: qualifiedName("public", "events_p2024_01") });
    expect(dataKey(keys, 1)).toBe("public/events/public/events_p2024_01/data.parquet");
    expect(partKey(keys, 1, 1)).toBe("public/events/public/events_p2024_01/data.part-0001.parquet");
    expect(partKey(keys, 3, 12)).toBe("public/events/public/events_p2024_01/data.3.part-0012.parquet");
    expect(partKey(keys, 1, 12345)).toBe("public/events/public/events_p2024_01/data.part-12345.parquet");
    expect(() => partKey(keys, 1, 0)).toThrow(/positive integer/);
  });
});
