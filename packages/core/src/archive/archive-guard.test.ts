import { describe, expect, it } from "vitest";
import { qualifiedName } from "../identifier.ts";
import { dropGuardedPartitionSql, installArchiveGuardSql, removeArchiveGuardSql } from "./archive-guard.ts";

describe("archive guard SQL", () => {
  const partition = qualifiedName("Sales", 'hej"hej_p2024_01');

  it("installs a statement trigger on every write, fired even for replicas", () => {
    expect(installArchiveGuardSql(partition)).toEqual([
      `CREATE OR REPLACE TRIGGER "partkeeper_archive_guard" BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Sales"."hej""hej_p2024_01" FOR EACH STATEMENT EXECUTE FUNCTION partkeeper.archive_guard()`,
      `ALTER TABLE "Sales"."hej""hej_p2024_01" ENABLE ALWAYS TRIGGER "partkeeper_archive_guard"`,
    ]);
  });

  it("removes it from a kept partition", () => {
    expect(removeArchiveGuardSql(partition)).toBe(`DROP TRIGGER IF EXISTS "partkeeper_archive_guard" ON "Sales"."hej""hej_p2024_01"`);
  });

  it("drops only after proving, under the drop's own lock, that the guard held", () => {
    expect(dropGuardedPartitionSql(partition)).toEqual([
      `LOCK TABLE "Sales"."hej""hej_p2024_01" IN ACCESS EXCLUSIVE MODE`,
      `SELECT partkeeper.assert_archive_guard('"Sales"."hej""hej_p2024_01"'::regclass)`,
      `DROP TABLE "Sales"."hej""hej_p2024_01"`,
    ]);
  });
});
