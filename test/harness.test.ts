import { describe, expect, it } from "vitest";
import { createTestDatabase } from "./helpers.ts";

describe("test harness", () => {
  it("gives each file its own real PostgreSQL database", async () => {
    const { sql } = await createTestDatabase();
    const [row] = await sql`select current_database() as db, current_setting('server_version_num')::int as v`;
    expect(row!.db).toMatch(/^pk_test_/);
    expect(row!.v).toBeGreaterThanOrEqual(140000);
  });
});
