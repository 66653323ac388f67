import { describe, expect, it } from "vitest";
import { qualifiedName } from "../identifier.ts";
import {
  attachPartitionSteps,
  boundsClause,
  boundsCondition,
  createDefaultPartitionSql,
  createPartitionOfSql,
  createPartitionViaDefaultSql,
  detachPartitionSql,
  dropTableSql,
} from "./partition-ddl.ts";

const parent = qualifiedName("Sales", 'hej"hej');
const partition = qualifiedName("Sales", 'hej"hej_p2024_01');

describe("partition DDL", () => {
  it("quotes identifiers and literals exactly", () => {
    expect(
      createPartitionOfSql(parent, partition, { kind: "range", from: "2024-01-01 00:00:00+00", to: "2024-02-01 00:00:00+00" }),
    ).toBe(
      `CREATE TABLE "Sales"."hej""hej_p2024_01" PARTITION OF "Sales"."hej""hej" FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-02-01 00:00:00+00')`,
    );
    expect(createDefaultPartitionSql(qualifiedName("public", "Événements"), qualifiedName("public", "Événements_default"))).toBe(
      `CREATE TABLE "public"."Événements_default" PARTITION OF "public"."Événements" DEFAULT`,
    );
  });

  it("renders every kind of bounds", () => {
    expect(boundsClause({ kind: "range", from: "MINVALUE", to: "1000" })).toBe("FOR VALUES FROM (MINVALUE) TO ('1000')");
    expect(boundsClause({ kind: "list", values: ["it's", null] })).toBe("FOR VALUES IN ('it''s', NULL)");
    expect(boundsClause({ kind: "list", values: ["back\\slash"] })).toBe("FOR VALUES IN (E'back\\\\slash')");
    expect(boundsClause({ kind: "hash", modulus: 16, remainder: 3 })).toBe("FOR VALUES WITH (MODULUS 16, REMAINDER 3)");
  });

  it("selects a partition's rows by key", () => {
    expect(boundsCondition("createdAt", { kind: "range", from: "0", to: "10" })).toBe(`"createdAt" >= '0' AND "createdAt" < '10'`);
    expect(boundsCondition("k", { kind: "range", from: "MINVALUE", to: "MAXVALUE" })).toBe("true");
    expect(boundsCondition("k", { kind: "list", values: ["a", null] })).toBe(`("k" IN ('a') OR "k" IS NULL)`);
    expect(() => boundsCondition("k", { kind: "hash", modulus: 2, remainder: 0 })).toThrow(/no default partition/);
  });

  it("moves default-partition rows in the statements that create the partition, the parent locked first against writers", () => {
    expect(
      createPartitionViaDefaultSql({
        parent,
        partition,
        defaultPartition: qualifiedName("Sales", 'hej"hej_default'),
        key: "ts",
        columns: ["id", "ts"],
        bounds: { kind: "range", from: "2024-01-01", to: "2024-02-01" },
      }),
    ).toEqual([
      `LOCK TABLE "Sales"."hej""hej" IN SHARE ROW EXCLUSIVE MODE`,
      `LOCK TABLE "Sales"."hej""hej_default" IN ACCESS EXCLUSIVE MODE`,
      `CREATE TABLE "Sales"."hej""hej_p2024_01" (LIKE "Sales"."hej""hej" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)`,
      `WITH moved AS (DELETE FROM "Sales"."hej""hej_default" WHERE "ts" >= '2024-01-01' AND "ts" < '2024-02-01' RETURNING "id", "ts") INSERT INTO "Sales"."hej""hej_p2024_01" ("id", "ts") SELECT "id", "ts" FROM moved`,
      `ALTER TABLE "Sales"."hej""hej" ATTACH PARTITION "Sales"."hej""hej_p2024_01" FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')`,
    ]);
  });

  it("detaches and drops", () => {
    expect(detachPartitionSql(parent, partition, "concurrently")).toBe(
      `ALTER TABLE "Sales"."hej""hej" DETACH PARTITION "Sales"."hej""hej_p2024_01" CONCURRENTLY`,
    );
    expect(detachPartitionSql(parent, partition, "finalize")).toMatch(/ FINALIZE$/);
    expect(detachPartitionSql(parent, partition, "plain")).toMatch(/"hej""hej_p2024_01"$/);
    expect(dropTableSql(partition)).toBe(`DROP TABLE IF EXISTS "Sales"."hej""hej_p2024_01"`);
  });

  it("attaches under a SHARE ROW EXCLUSIVE lock on the parent only when it has a default partition", () => {
    const parent = qualifiedName("public", "Posts");
    const partition = qualifiedName("public", "Posts_p2024_01");
    const bound = "FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-02-01 00:00:00+00')";
    const attach = `ALTER TABLE "public"."Posts" ATTACH PARTITION "public"."Posts_p2024_01" ${bound}`;
    expect(attachPartitionSteps(parent, partition, bound, false)).toEqual([attach]);
    expect(attachPartitionSteps(parent, partition, bound, true)).toEqual([`LOCK TABLE "public"."Posts" IN SHARE ROW EXCLUSIVE MODE`, attach]);
  });
});
