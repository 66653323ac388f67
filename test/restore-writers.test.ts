import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { restorePartition, runJob } from "@partkeeper/core";
import { createTestDatabase, useTestS3 } from "./helpers.ts";
import { partitionNames, testJobContext } from "./job-context.ts";

describe("restore beside a live application", async () => {
  const { url, sql } = await createTestDatabase();
  const location = useTestS3();
  await sql.unsafe(`
    create table feed (id bigint not null, ts timestamptz not null, primary key (id, ts)) partition by range (ts);
    create table feed_p2026_05 partition of feed for values from ('2026-05-01 00:00:00+00') to ('2026-06-01 00:00:00+00');
    create table feed_p2026_11 partition of feed for values from ('2026-11-01 00:00:00+00') to ('2026-12-01 00:00:00+00');
    create table feed_default partition of feed default;
    insert into feed select g, timestamptz '2026-05-01 00:00:00+00' + g * interval '1 minute' from generate_series(1, 1000) g;
  `);
  const ctx = await testJobContext(url, {
    archive: { location },
    tables: [{ table: "feed", strategy: "range-time", interval: "month", premake: 1, retention: "3 months" }],
  });

  it("attaches while inserts for the restored range wait and then land in it, none failing", async () => {
    expect((await runJob(ctx, { job: "archive", dryRun: false })).ok).toBe(true);
    expect(await partitionNames(sql, "public", "feed")).not.toContain("feed_p2026_05");

    // A reader keeps the default partition locked, so the ATTACH (which must scan it) waits; inserts
    // for May routed meanwhile would pick the default partition and fail once the ATTACH commits.
    const reader = postgres(url, { max: 1, onnotice: () => {} });
    const writer = postgres(url, { max: 5, onnotice: () => {} });
    try {
      const held = reader.begin(async (tx) => {
        await tx`select count(*) from feed_default`;
        await new Promise((resolve) => setTimeout(resolve, 800));
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const restore = restorePartition(ctx, { parent: { schema: "public", name: "feed" }, partition: "feed_p2026_05", mode: "attach", dryRun: false });
      await new Promise((resolve) => setTimeout(resolve, 400));
      const inserts = Array.from({ length: 5 }, (_, i) =>
        writer`insert into feed (id, ts) values (${100_000 + i}, '2026-05-20 00:00:00+00')`.then(
          () => "ok",
          (error: Error) => error.message,
        ),
      );
      await held;
      expect((await restore).status).toBe("restored");
      expect(await Promise.all(inserts)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    } finally {
      await reader.end({ timeout: 5 });
      await writer.end({ timeout: 5 });
    }
    const [landed] = await sql`select count(*)::int as n from feed_p2026_05 where id >= 100000`;
    expect(landed!.n).toBe(5);
    const [total] = await sql`select count(*)::int as n from feed where ts < '2026-06-01'`;
    expect(total!.n).toBe(1005);
  });
});
