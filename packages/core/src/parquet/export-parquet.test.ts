import { describe, expect, it } from "vitest";
import { parquetCopyOptions } from "./export-parquet.ts";
import { parquetLabel } from "./parquet-version.ts";

describe("parquetCopyOptions", () => {
  it("writes v1 with DuckDB's default format version and v2 with PARQUET_VERSION v2", () => {
    expect(parquetCopyOptions(122_880, "v1")).toBe("FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 122880");
    expect(parquetCopyOptions(20_000, "v2")).toBe("FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 20000, PARQUET_VERSION v2");
  });

  it("names the format in plans", () => {
    expect([parquetLabel(undefined), parquetLabel("v1"), parquetLabel("v2")]).toEqual(["Parquet", "Parquet", "Parquet v2"]);
  });
});
