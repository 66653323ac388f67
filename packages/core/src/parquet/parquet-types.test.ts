import { describe, expect, it } from "vitest";
import { duckdbKeySummary, keyRendering, mapColumn, postgresKeySummary, restoreExpression } from "./parquet-types.ts";

const parquetTypeOf = (type: string): string => mapColumn({ name: "c", type }).parquetType;

describe("mapColumn", () => {
  it.each([
    ["smallint", "SMALLINT"],
    ["integer", "INTEGER"],
    ["bigint", "BIGINT"],
    ["numeric(12,2)", "DECIMAL(12,2)"],
    ["numeric(38,38)", "DECIMAL(38,38)"],
    ["numeric(5)", "DECIMAL(5,0)"],
    ["numeric", "VARCHAR"],
    ["numeric(39,2)", "VARCHAR"],
    ["numeric(3,-2)", "VARCHAR"],
    ["numeric(2,5)", "VARCHAR"],
    ["real", "FLOAT"],
    ["double precision", "DOUBLE"],
    ["boolean", "BOOLEAN"],
    ["uuid", "UUID"],
    ["timestamp with time zone", "TIMESTAMPTZ"],
    ["timestamp(3) with time zone", "TIMESTAMPTZ"],
    ["timestamp without time zone", "TIMESTAMP"],
    ["timestamp(0) without time zone", "TIMESTAMP"],
    ["date", "DATE"],
    ["time without time zone", "TIME"],
    ["time(6) without time zone", "TIME"],
    ["time with time zone", "VARCHAR"],
    ["text", "VARCHAR"],
    ["character varying(10)", "VARCHAR"],
    ["character(3)", "VARCHAR"],
    ["json", "JSON"],
    ["jsonb", "JSON"],
    ["bytea", "BLOB"],
    ["integer[]", "VARCHAR"],
    ["timestamp with time zone[]", "VARCHAR"],
    ["mood", "VARCHAR"],
    ['"My Enum"', "VARCHAR"],
    ["interval", "VARCHAR"],
    ["inet", "VARCHAR"],
  ])("%s -> %s", (pgType, parquetType) => {
    expect(parquetTypeOf(pgType)).toBe(parquetType);
  });

  it("exports bytea as hex and converts it with from_hex; other types pass through", () => {
    const bytea = mapColumn({ name: 'hej"hej', type: "bytea" });
    expect(bytea.csvType).toBe("VARCHAR");
    expect(bytea.exportExpression('"hej""hej"')).toBe(`encode("hej""hej", 'hex')`);
    expect(bytea.toParquet('"c0"')).toBe('from_hex("c0")');
    const ts = mapColumn({ name: "createdAt", type: "timestamp with time zone" });
    expect(ts.csvType).toBe("TIMESTAMPTZ");
    expect(ts.exportExpression('"createdAt"')).toBe('"createdAt"');
    expect(ts.toParquet('"c1"')).toBe('"c1"');
  });

  it("keeps name and pgType for the manifest, frozen", () => {
    const m = mapColumn({ name: "Événements", type: "numeric(12,2)" });
    expect([m.name, m.pgType, m.parquetType]).toEqual(["Événements", "numeric(12,2)", "DECIMAL(12,2)"]);
    expect(Object.isFrozen(m)).toBe(true);
  });
});

describe("restoreExpression", () => {
  it("renders Postgres input text", () => {
    expect(restoreExpression("BLOB", "t.c0")).toBe("'\\x' || hex(t.c0)");
    expect(restoreExpression("VARCHAR", "t.c0")).toBe("t.c0");
    expect(restoreExpression("TIMESTAMPTZ", "t.c0")).toBe("CAST(t.c0 AS VARCHAR)");
    expect(restoreExpression("DECIMAL(12,2)", "t.c0")).toBe("CAST(t.c0 AS VARCHAR)");
  });
});

describe("key summaries", () => {
  it("picks one rendering per Parquet type", () => {
    expect(keyRendering("TIMESTAMPTZ")).toBe("epoch-micros");
    expect(keyRendering("TIMESTAMP WITH TIME ZONE")).toBe("epoch-micros");
    expect(keyRendering("TIMESTAMP")).toBe("epoch-micros");
    expect(keyRendering("DATE")).toBe("iso-date");
    expect(keyRendering("BIGINT")).toBe("text");
    expect(keyRendering("VARCHAR")).toBe("text-bytes");
    expect(keyRendering("UUID")).toBe("text-bytes");
    expect(keyRendering("BOOLEAN")).toBe("boolean");
    expect(keyRendering("BLOB")).toBe("hex");
  });

  it("renders Postgres and DuckDB sides the same way", () => {
    expect(postgresKeySummary("timestamp with time zone", '"createdAt"')).toBe(
      `case when isfinite(min("createdAt")) then trunc(extract(epoch from min("createdAt")) * 1000000)::text else min("createdAt")::text end as key_min, ` +
        `case when isfinite(max("createdAt")) then trunc(extract(epoch from max("createdAt")) * 1000000)::text else max("createdAt")::text end as key_max`,
    );
    expect(duckdbKeySummary("TIMESTAMPTZ", "t.c0")).toBe(
      "CASE WHEN isfinite(min(t.c0)) THEN CAST(epoch_us(min(t.c0)) AS VARCHAR) ELSE CAST(min(t.c0) AS VARCHAR) END AS key_min, " +
        "CASE WHEN isfinite(max(t.c0)) THEN CAST(epoch_us(max(t.c0)) AS VARCHAR) ELSE CAST(max(t.c0) AS VARCHAR) END AS key_max",
    );
    expect(postgresKeySummary("text", '"k"')).toBe(`min(("k"::text COLLATE "C"))::text as key_min, max(("k"::text COLLATE "C"))::text as key_max`);
    expect(postgresKeySummary("boolean", '"b"')).toBe(`(min("b"::int))::boolean::text as key_min, (max("b"::int))::boolean::text as key_max`);
    expect(postgresKeySummary("bigint", '"id"')).toBe(`min("id")::text as key_min, max("id")::text as key_max`);
  });
});
