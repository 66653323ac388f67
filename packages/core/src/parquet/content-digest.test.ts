import { describe, expect, it } from "vitest";
import { canonicalText, columnDigestQuery, contentDifferences, contentSummaryQuery, postgresDigestColumns } from "./content-digest.ts";

describe("content digest SQL", () => {
  it("renders the same canonical text in both engines' own functions", () => {
    expect(canonicalText("TIMESTAMPTZ", `"ts"`, "postgres")).toBe(
      `case when isfinite("ts") then trunc(extract(epoch from "ts") * 1000000)::text else "ts"::text end`,
    );
    expect(canonicalText("TIMESTAMPTZ", "t.c1", "duckdb")).toBe(
      "CASE WHEN isfinite(t.c1) THEN CAST(epoch_us(t.c1) AS VARCHAR) ELSE CAST(t.c1 AS VARCHAR) END",
    );
    expect(canonicalText("BOOLEAN", `"b"`, "postgres")).toBe(`case when "b" then 'true' else 'false' end`);
    expect(canonicalText("BLOB", "t.c0", "duckdb")).toBe("lower(hex(t.c0))");
    expect(canonicalText("VARCHAR", `"ch"`, "postgres")).toBe(`concat("ch")`);
  });

  it("hashes one joined row text per row, passing output-text columns to concat_ws as they are, and counts NULLs (Postgres)", () => {
    const columns = postgresDigestColumns([
      { name: "id", type: "bigint" },
      { name: "ch", type: "character(4)" },
    ]);
    expect(contentSummaryQuery(columns, "postgres", `"s"."p"`)).toBe(
      `SELECT (count(*))::text AS "rows", ` +
        `(coalesce(sum(('x' || substr(md5(concat_ws(chr(31), "id", "ch")), 1, 15))::bit(60)::bigint), 0))::text AS "digest", ` +
        `(count(*) - count("id"))::text AS "n0", (count(*) - count("ch"))::text AS "n1" FROM "s"."p"`,
    );
  });

  it("builds the DuckDB side and the per-column diagnosis the same way", () => {
    const columns = [{ name: "d", parquetType: "DOUBLE", ref: "t.c0" }];
    expect(contentSummaryQuery(columns, "duckdb", "src", "min(t.c0) AS key_min")).toBe(
      `SELECT CAST(count(*) AS VARCHAR) AS "rows", ` +
        `CAST(coalesce(sum(CAST('0x' || substr(md5(concat_ws(chr(31), CASE WHEN t.c0 IS NULL THEN NULL ELSE CASE WHEN isnan(t.c0) THEN 'nan' WHEN isinf(t.c0) THEN (CASE WHEN t.c0 > 0 THEN 'inf' ELSE '-inf' END) ELSE printf('%.16e', CAST(t.c0 AS DOUBLE)) END END)), 1, 15) AS BIGINT)), 0) AS VARCHAR) AS "digest", ` +
        `CAST(count(*) - count(t.c0) AS VARCHAR) AS "n0", min(t.c0) AS key_min FROM src`,
    );
    expect(columnDigestQuery(columns, "duckdb", "src")).toMatch(/^SELECT CAST\(coalesce\(sum\(CAST\('0x' \|\| substr\(md5\(CASE WHEN t\.c0 IS NULL .* AS "d0" FROM src$/);
  });

  it("names what differs", () => {
    const table = { rows: 3, digest: "10", columns: [{ name: "a", nulls: 1 }] };
    expect(contentDifferences(table, table)).toEqual([]);
    expect(contentDifferences(table, { rows: 3, digest: "11", columns: [{ name: "a", nulls: 2 }] })).toEqual([
      `column "a": 2 NULLs in the archive vs 1 in the table`,
      "row digest 11 in the archive vs 10 in the table (values differ)",
    ]);
    expect(contentDifferences(table, { ...table, rows: 4 }, { expected: "archived", actual: "restored" })).toEqual(["4 rows restored vs 3 archived"]);
  });
});
