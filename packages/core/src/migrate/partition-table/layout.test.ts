import { describe, expect, test } from "vitest";
import type { ShapeIndex, TableShape } from "../../catalog/read-table-shape.ts";
import type { PartitionTableSpec } from "../../config/schema.ts";
import { parseConfig } from "../../config/load-config.ts";
import { UnmanageableTableError } from "../../errors.ts";
import { qualifiedName } from "../../identifier.ts";
import { checkSource, layoutOf } from "./layout.ts";

const config = parseConfig({
  tables: [{ table: "audit_log", strategy: "range-time", interval: "month" }],
  migrations: [{ id: "m", kind: "partition-table", table: "audit_log", column: "created_at" }],
});
const spec = config.migrations[0] as PartitionTableSpec;
const policy = config.tables[0]!;

const key = (column: string) => ({ column, expression: null, opclass: null, collation: null, descending: false, nullsFirst: false });
const index = (fields: Partial<ShapeIndex> & Pick<ShapeIndex, "name" | "keys">): ShapeIndex => ({
  method: "btree",
  unique: false,
  constraint: null,
  include: [],
  predicate: null,
  ...fields,
});

const shape: TableShape = {
  name: qualifiedName("public", "audit_log"),
  relkind: "r",
  inherits: false,
  columns: [
    { name: "id", type: "bigint", notNull: true, generated: false, identity: "a", sequence: qualifiedName("public", "audit_log_id_seq") },
    { name: "created_at", type: "timestamp with time zone", notNull: true, generated: false, identity: "", sequence: null },
    { name: "n", type: "integer", notNull: false, generated: true, identity: "", sequence: null },
  ],
  primaryKey: ["id"],
  indexes: [index({ name: "audit_log_pkey", unique: true, constraint: "p", keys: [key("id")] })],
  foreignKeys: [],
  referencedBy: [],
  dependentViews: [],
  triggers: [],
  comment: null,
  grants: [],
  rowEstimate: 10,
  owner: "app",
};

const refusal = (s: TableShape | null, nullKeys = 0) => {
  try {
    checkSource(spec, policy, s, { nullKeys });
  } catch (error) {
    expect(error).toBeInstanceOf(UnmanageableTableError);
    return (error as Error).message;
  }
  return null;
};

describe("checkSource", () => {
  test("a plain table with a primary key and a NOT NULL time column passes", () => {
    expect(refusal(shape)).toBeNull();
  });

  test.each([
    ["missing", null, /public\.audit_log does not exist/],
    ["already partitioned", { ...shape, relkind: "p" }, /is already partitioned: nothing to migrate/],
    ["a view", { ...shape, relkind: "v" }, /is not a table \(relkind v\)/],
    ["a partition or inheritance parent", { ...shape, inherits: true }, /is a partition or has inheritance children/],
    ["no primary key", { ...shape, primaryKey: [] }, /has no primary key: the backfill walks the table in primary-key order/],
    ["no such column", { ...shape, columns: shape.columns.filter((c) => c.name !== "created_at") }, /has no column "created_at"/],
    ["a nullable key column", { ...shape, columns: shape.columns.map((c) => (c.name === "created_at" ? { ...c, notNull: false } : c)) }, /allows NULL in created_at/],
    [
      "a unique constraint without the partition key",
      { ...shape, indexes: [...shape.indexes, index({ name: "audit_log_email_key", unique: true, constraint: "u", keys: [key("email")] })] },
      /has unique constraint audit_log_email_key \(email\) that cannot include the partition key created_at/,
    ],
    [
      "a unique expression index",
      { ...shape, indexes: [...shape.indexes, index({ name: "lower_email", unique: true, keys: [{ ...key("x"), column: null, expression: "lower(email)" }] })] },
      /has unique index lower_email \(<expression>\)/,
    ],
    ["an exclusion constraint", { ...shape, indexes: [...shape.indexes, index({ name: "no_overlap", method: "gist", constraint: "x", keys: [key("created_at")] })] }, /exclusion constraint no_overlap/],
    ["incoming foreign keys", { ...shape, referencedBy: [{ table: qualifiedName("public", "comments"), constraint: "comments_log_fkey" }] }, /is referenced by foreign keys \(public\.comments\.comments_log_fkey\)/],
    ["dependent views", { ...shape, dependentViews: [qualifiedName("public", "recent_log")] }, /is used by views \(public\.recent_log\)/],
    ["a key type that does not fit the strategy", { ...shape, columns: shape.columns.map((c) => (c.name === "created_at" ? { ...c, type: "text" } : c)) }, /time/],
  ])("refuses %s, naming it", (_what, s, message) => {
    expect(refusal(s as TableShape | null)).toMatch(message);
  });

  test("NULLs in the key column are counted in the refusal", () => {
    expect(refusal(shape, 42)).toMatch(/has 42 rows with NULL created_at/);
  });

  test("a unique constraint that includes the partition key is kept", () => {
    const withUnique = { ...shape, indexes: [...shape.indexes, index({ name: "u", unique: true, constraint: "u", keys: [key("id"), key("created_at")] })] };
    expect(refusal(withUnique)).toBeNull();
  });
});

describe("layoutOf", () => {
  test("copy and retired names, keys with types, written columns without generated ones, sequences", () => {
    expect(layoutOf(spec, shape)).toEqual({
      table: qualifiedName("public", "audit_log"),
      twin: qualifiedName("public", "audit_log_partitioned"),
      retired: qualifiedName("public", "audit_log_retired"),
      column: "created_at",
      keys: [{ name: "id", type: "bigint" }],
      columns: ["id", "created_at"],
      sequences: [{ column: "id", identity: true, sequence: qualifiedName("public", "audit_log_id_seq") }],
    });
  });

  test("names of long tables stay within 63 bytes", () => {
    const long = { ...spec, table: qualifiedName("public", "x".repeat(60)) };
    const layout = layoutOf(long, shape);
    expect(Buffer.byteLength(layout.twin.name)).toBeLessThanOrEqual(63);
    expect(layout.twin.name.endsWith("_partitioned")).toBe(true);
    expect(layout.retired.name.endsWith("_retired")).toBe(true);
  });
});

describe("checkSource and the policy", () => {
  test("a range or list policy without a default partition is refused: rows outside the created partitions would stop the migration", () => {
    const strict = parseConfig({
      tables: [{ table: "audit_log", strategy: "range-time", interval: "month", defaultPartition: false }],
      migrations: [{ id: "m", kind: "partition-table", table: "audit_log", column: "created_at" }],
    });
    expect(() => checkSource(strict.migrations[0] as PartitionTableSpec, strict.tables[0]!, shape, { nullKeys: 0 })).toThrow(/defaultPartition false: a migration needs the default partition/);
  });
});
