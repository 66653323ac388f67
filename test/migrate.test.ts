import { describe, expect, it } from "vitest";
import { createClient } from "@partkeeper/core";
import { migrate } from "../packages/core/src/db/migrate.ts";
import { createTestDatabase } from "./helpers.ts";

describe("partkeeper's own schema", async () => {
  const { url, sql } = await createTestDatabase();

  it("is created once, concurrently safe, and upgrades are idempotent", async () => {
    await Promise.all([migrate(sql), migrate(sql), migrate(sql)]);
    await migrate(sql);
    const versions = await sql`select version from partkeeper.migration order by version`;
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
  });

  it("needs no CREATE privilege once it is current", async () => {
    await sql.unsafe(`
      create role pk_limited_${process.pid} login password 'limited';
      revoke create on database "${new URL(url).pathname.slice(1)}" from public;
      grant usage on schema partkeeper to pk_limited_${process.pid};
      grant select on partkeeper.migration to pk_limited_${process.pid};
    `);
    const limitedUrl = new URL(url);
    limitedUrl.username = `pk_limited_${process.pid}`;
    limitedUrl.password = "limited";
    const limited = createClient(limitedUrl.toString(), { max: 1 });
    try {
      await expect(migrate(limited)).resolves.toBeUndefined();
      await expect(limited`create schema should_fail`).rejects.toThrow(/permission denied/);
    } finally {
      await limited.end();
      await sql.unsafe(`drop owned by pk_limited_${process.pid}; drop role pk_limited_${process.pid}`);
    }
  });
});
