import { describe, expect, test } from "vitest";
import { qualifiedName } from "../identifier.ts";
import { backfillBatchSql, MIN_BATCH_ROWS, nextBatchSize } from "./backfill.ts";

describe("nextBatchSize", () => {
  test("scales toward the target, at most doubling or halving per batch", () => {
    expect(nextBatchSize(1000, 250, 500, 100_000)).toBe(2000);
    expect(nextBatchSize(1000, 50, 500, 100_000)).toBe(2000);
    expect(nextBatchSize(1000, 1000, 500, 100_000)).toBe(500);
    expect(nextBatchSize(1000, 60_000, 500, 100_000)).toBe(500);
    expect(nextBatchSize(1000, 400, 500, 100_000)).toBe(1250);
    expect(nextBatchSize(1000, 0, 500, 100_000)).toBe(2000);
  });

  test("stays within [MIN_BATCH_ROWS, maxSize]", () => {
    expect(nextBatchSize(80_000, 10, 500, 100_000)).toBe(100_000);
    expect(nextBatchSize(MIN_BATCH_ROWS, 10_000, 500, 100_000)).toBe(MIN_BATCH_ROWS);
    expect(nextBatchSize(40, 10, 500, 50)).toBe(50);
  });
});

describe("backfillBatchSql", () => {
  const b = {
    source: qualifiedName("app", 'Audit "log"'),
    target: qualifiedName("app", 'Audit "log"_partitioned'),
    keys: [
      { name: "tenant", type: "integer" },
      { name: "id", type: "bigint" },
    ],
    columns: ["tenant", "id", "at"],
  };

  test("first batch: boundary $1..$2, size $3, keyset order, no lower bound", () => {
    const text = backfillBatchSql(b, false);
    expect(text).toContain(`where (s."tenant", s."id") <= ($1::integer, $2::bigint)`);
    expect(text).toContain(`order by s."tenant", s."id" limit $3`);
    expect(text).toContain(`insert into "app"."Audit ""log""_partitioned" ("tenant", "id", "at") overriding system value`);
    expect(text).toContain("on conflict do nothing");
    expect(text).toContain(`(select array["tenant"::text, "id"::text] from batch order by "tenant" desc, "id" desc limit 1) as last`);
  });

  test("later batches: watermark $1..$2, boundary $3..$4, size $5", () => {
    const text = backfillBatchSql(b, true);
    expect(text).toContain(`where (s."tenant", s."id") > ($1::integer, $2::bigint) and (s."tenant", s."id") <= ($3::integer, $4::bigint)`);
    expect(text).toContain("limit $5");
  });
});
