import { describe, expect, test } from "vitest";
import { qualifiedName } from "../identifier.ts";
import { partitionName, shortHash, truncateUtf8, utf8Bytes } from "./partition-name.ts";

const none = new Set<string>();

describe("partitionName", () => {
  test("parent name + suffix in the parent's schema", () => {
    expect(partitionName(qualifiedName("public", "events"), "_p2024_01", none)).toEqual({ schema: "public", name: "events_p2024_01" });
  });

  test("keeps quotes, spaces, upper case and unicode as they are (quoting happens at SQL time)", () => {
    expect(partitionName(qualifiedName("Märkte", "Posts"), "_p2024", none)).toEqual({ schema: "Märkte", name: "Posts_p2024" });
    expect(partitionName(qualifiedName("public", 'hej"hej'), "_p_eu", none).name).toBe('hej"hej_p_eu');
    expect(partitionName(qualifiedName("public", "my events"), "_default", none).name).toBe("my events_default");
    expect(partitionName(qualifiedName("public", "Événements"), "_p2024w05", none).name).toBe("Événements_p2024w05");
  });

  test("a result frozen", () => {
    expect(Object.isFrozen(partitionName(qualifiedName("public", "events"), "_p1", none))).toBe(true);
  });

  test("exactly 63 bytes is kept as is", () => {
    const parent = "a".repeat(54); // + "_p2024_01" (9) = 63
    expect(partitionName(qualifiedName("public", parent), "_p2024_01", none).name).toBe(`${parent}_p2024_01`);
  });

  test("64 bytes: the parent part is cut and a hash of the full parent name comes before the suffix", () => {
    const parent = "a".repeat(55);
    const name = partitionName(qualifiedName("public", parent), "_p2024_01", none).name;
    expect(name).toBe(`${"a".repeat(63 - 9 - 7)}_${shortHash(parent)}_p2024_01`);
    expect(utf8Bytes(name)).toBe(63);
    expect(shortHash(parent)).toMatch(/^[0-9a-f]{6}$/);
  });

  test("two long parents sharing a 63-byte prefix get different names (pg_partman #592, #821)", () => {
    const prefix = "customer_activity_events_partitioned_by_created_at_for_reporting";
    const a = partitionName(qualifiedName("public", `${prefix}_eu`), "_p2024_01_31", none).name;
    const b = partitionName(qualifiedName("public", `${prefix}_us`), "_p2024_01_31", none).name;
    expect(a).not.toBe(b);
    expect(a.endsWith("_p2024_01_31")).toBe(true);
    expect(b.endsWith("_p2024_01_31")).toBe(true);
    expect(utf8Bytes(a)).toBeLessThanOrEqual(63);
    expect(a.slice(0, -"_p2024_01_31".length - 7)).toBe(b.slice(0, -"_p2024_01_31".length - 7));
  });

  test("multi-byte parent names are cut on a character boundary, never inside one", () => {
    // "É" and "é" are 2 bytes each in UTF-8: 30 x "Événements" is 360 bytes.
    const parent = "Événements".repeat(30);
    for (const suffix of ["_p2024_01", "_p2024", "_p2024_01_31_1300", "_default", "_p2024q1x"]) {
      const name = partitionName(qualifiedName("public", parent), suffix, none).name;
      expect(utf8Bytes(name)).toBeLessThanOrEqual(63);
      expect(utf8Bytes(name)).toBeGreaterThanOrEqual(62 - 1) // a 2-byte character may not fit in the last byte;
      expect(Buffer.from(name, "utf8").toString("utf8")).toBe(name);
      expect(name).not.toContain("\uFFFD");
      expect(name.endsWith(`_${shortHash(parent)}${suffix}`)).toBe(true);
      expect(parent.startsWith(name.slice(0, -(7 + suffix.length)))).toBe(true);
    }
    // 47 bytes of budget for "_p2024_01": "Événements" is 12 bytes, so 3 words (36) + "Événement" (11) = 47 bytes
    expect(partitionName(qualifiedName("public", parent), "_p2024_01", none).name).toBe(
      `ÉvénementsÉvénementsÉvénementsÉvénement_${shortHash(parent)}_p2024_01`,
    );
  });

  test("a 4-byte character (emoji) is not split either", () => {
    const parent = `${"x".repeat(46)}😀${"y".repeat(20)}`; // budget 47 for _p2024_01: 46 x + 4-byte emoji does not fit
    const name = partitionName(qualifiedName("public", parent), "_p2024_01", none).name;
    expect(name).toBe(`${"x".repeat(46)}_${shortHash(parent)}_p2024_01`);
  });

  test("a name already taken throws", () => {
    expect(() => partitionName(qualifiedName("public", "events"), "_p2024_01", new Set(["events_p2024_01"]))).toThrow(
      /public\.events_p2024_01 for public\.events is already taken/,
    );
  });

  test("a suffix leaving no room for the parent throws", () => {
    expect(() => partitionName(qualifiedName("public", "e".repeat(60)), `_p_${"v".repeat(60)}`, none)).toThrow(/no room/);
  });
});

describe("truncateUtf8", () => {
  test("whole code points within the byte budget", () => {
    expect(truncateUtf8("Éa", 1)).toBe("");
    expect(truncateUtf8("Éa", 2)).toBe("É");
    expect(truncateUtf8("Éa", 3)).toBe("Éa");
  });
});

test("a cut that would split a 2-byte character stops before it (62 bytes)", () => {
  const parent = `${"a".repeat(46)}É${"b".repeat(20)}`; // budget 47: 46 a + É (2 bytes) = 48 > 47
  const name = partitionName(qualifiedName("public", parent), "_p2024_01", none).name;
  expect(name).toBe(`${"a".repeat(46)}_${shortHash(parent)}_p2024_01`);
  expect(utf8Bytes(name)).toBe(62);
});
