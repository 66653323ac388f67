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

  test("a key already in the copy is skipped by an anti-join over the copy's rows in the same key range", () => {
    expect(backfillBatchSql(b, true)).toContain(
      `and not exists (select 1 from "app"."Audit ""log""_partitioned" t where (t."tenant", t."id") > ($1::integer, $2::bigint) ` +
        `and (t."tenant", t."id") <= ($3::integer, $4::bigint) and t."tenant" = b."tenant" and t."id" = b."id")`,
    );
    expect(backfillBatchSql(b, false)).toContain(
      `and not exists (select 1 from "app"."Audit ""log""_partitioned" t where (t."tenant", t."id") <= ($1::integer, $2::bigint) and t."tenant" = b."tenant" and t."id" = b."id")`,
    );
  });

  test("one integer key: exact SQL; max() finds the last key, ON CONFLICT only when the copy has other unique indexes", () => {
    const single = { source: qualifiedName("public", "login_events"), target: qualifiedName("public", "login_events_partitioned"), keys: [{ name: "id", type: "bigint" }], columns: ["id", "created_at", "ip"] };
    expect(backfillBatchSql(single, true)).toBe(
      [
        `with batch as (`,
        `  select s."id", s."created_at", s."ip" from "public"."login_events" s`,
        `  where (s."id") > ($1::bigint) and (s."id") <= ($2::bigint)`,
        `  order by s."id" limit $3`,
        `), other_unique as (`,
        `  select exists (select 1 from pg_catalog.pg_index where indrelid = '"public"."login_events_partitioned"'::regclass and indisunique and not indisprimary) as found`,
        `), copied as (`,
        `  insert into "public"."login_events_partitioned" ("id", "created_at", "ip") overriding system value`,
        `  select "id", "created_at", "ip" from batch b where not (select found from other_unique)`,
        `    and not exists (select 1 from "public"."login_events_partitioned" t where (t."id") > ($1::bigint) and (t."id") <= ($2::bigint) and t."id" = b."id")`,
        `  order by "id" returning 1`,
        `), guarded as (`,
        `  insert into "public"."login_events_partitioned" ("id", "created_at", "ip") overriding system value`,
        `  select "id", "created_at", "ip" from batch where (select found from other_unique) order by "id" on conflict do nothing returning 1`,
        `)`,
        `select count(*)::int8 as rows, ((select count(*) from copied) + (select count(*) from guarded))::int8 as inserted,`,
        `       case when count(*) = 0 then null else array[max("id")::text] end as last from batch`,
      ].join("\n"),
    );
  });

  test("a key whose type may have no max() (uuid) sorts for the last key", () => {
    const uuid = { ...b, keys: [{ name: "id", type: "uuid" }] };
    expect(backfillBatchSql(uuid, true)).toContain(`(select array["id"::text] from batch order by "id" desc limit 1) as last from batch`);
  });
});
