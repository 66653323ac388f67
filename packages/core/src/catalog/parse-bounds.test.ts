import { describe, expect, it } from "vitest";
import { parseBounds, parseLiteralList } from "./parse-bounds.ts";

describe("parseBounds", () => {
  it("reads range bounds in UTC text, with MINVALUE and MAXVALUE", () => {
    expect(parseBounds("FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-02-01 00:00:00+00')")).toEqual({
      kind: "range",
      from: "2024-01-01 00:00:00+00",
      to: "2024-02-01 00:00:00+00",
    });
    expect(parseBounds("FOR VALUES FROM (MINVALUE) TO ('0')")).toEqual({ kind: "range", from: "MINVALUE", to: "0" });
    expect(parseBounds("FOR VALUES FROM ('-5') TO (MAXVALUE)")).toEqual({ kind: "range", from: "-5", to: "MAXVALUE" });
    expect(parseBounds("FOR VALUES FROM (0) TO (1000)")).toEqual({ kind: "range", from: "0", to: "1000" });
  });

  it("reads list bounds with quotes, NULL and casts", () => {
    expect(parseBounds("FOR VALUES IN ('a', 'it''s', NULL, '-5'::integer, 7)")).toEqual({
      kind: "list",
      values: ["a", "it's", null, "-5", "7"],
    });
    expect(parseBounds("FOR VALUES IN ('hej, \"hej\"')")).toEqual({ kind: "list", values: ['hej, "hej"'] });
  });

  it("reads hash and default bounds", () => {
    expect(parseBounds("FOR VALUES WITH (modulus 16, remainder 3)")).toEqual({ kind: "hash", modulus: 16, remainder: 3 });
    expect(parseBounds("DEFAULT")).toEqual({ kind: "default" });
  });

  it("refuses multi-column ranges and unknown text", () => {
    expect(() => parseBounds("FOR VALUES FROM (1, 2) TO (3, 4)")).toThrow(/multi-column/);
    expect(() => parseBounds("something else")).toThrow(/unrecognised/);
    expect(() => parseLiteralList("'open")).toThrow(/unterminated/);
  });
});
