import { describe, expect, test } from "vitest";
import { qualifiedName } from "../../identifier.ts";
import { columnsGuardSql, createIndexSql, rollbackSql, swapSql } from "./partition-table-sql.ts";
import { layoutOf } from "./layout.ts";
import type { PartitionTableSpec } from "../../config/schema.ts";
import { parseConfig } from "../../config/load-config.ts";
import type { TableShape } from "../../catalog/read-table-shape.ts";

const config = parseConfig({
  tables: [{ table: "audit_log", strategy: "range-time", interval: "month" }],
  migrations: [{ id: "m", kind: "partition-table", table: "audit_log", column: "created_at" }],
});
const columns = [
  { name: "id", type: "bigint", notNull: true, generated: false, identity: "a", sequence: qualifiedName("public", "audit_log_id_seq") },
  { name: "created_at", type: "timestamp with time zone", notNull: true, generated: false, identity: "", sequence: null },
  { name: "n", type: "bigint", notNull: true, generated: false, identity: "", sequence: qualifiedName("public", "shared_seq") },
] as const;
const layout = layoutOf(config.migrations[0] as PartitionTableSpec, { columns, primaryKey: ["id"] } as unknown as TableShape);

describe("createIndexSql", () => {
  test("rebuilds columns, expressions, collation, operator class, order, INCLUDE and predicate", () => {
    const text = createIndexSql(layout.twin, {
      name: "i",
      method: "btree",
      unique: false,
      constraint: null,
      keys: [
        { column: "actor", expression: null, opclass: qualifiedName("pg_catalog", "text_pattern_ops"), collation: qualifiedName("pg_catalog", "C"), descending: false, nullsFirst: true },
        { column: null, expression: "lower(detail ->> 'x'::text)", opclass: null, collation: null, descending: true, nullsFirst: false },
        { column: "created_at", expression: null, opclass: null, collation: null, descending: true, nullsFirst: true },
      ],
      include: ["id"],
      predicate: "detail IS NOT NULL",
    });
    expect(text).toBe(
      `CREATE INDEX ON "public"."audit_log_partitioned" USING "btree" ("actor" COLLATE "pg_catalog"."C" "pg_catalog"."text_pattern_ops" NULLS FIRST, ` +
        `(lower(detail ->> 'x'::text)) DESC NULLS LAST, "created_at" DESC) INCLUDE ("id") WHERE detail IS NOT NULL`,
    );
  });
});

describe("swap and rollback", () => {
  const shape = { grants: [{ grantee: "reader", privilege: "SELECT", grantable: false }, { grantee: null, privilege: "INSERT", grantable: true }] } as unknown as TableShape;

  test("swap: lock first, drain everything, carry sequences, rename, capture the other way, grant", () => {
    const sql = swapSql("m", layout, shape);
    expect(sql[0]).toBe(`LOCK TABLE "public"."audit_log", "public"."audit_log_partitioned" IN ACCESS EXCLUSIVE MODE`);
    expect(sql[1]).toBe(columnsGuardSql("m", layout));
    expect(sql[4]).toBe(`delete from "partkeeper"."m.forward"`);
    expect(sql[5]).toContain(`setval(pg_get_serial_sequence('"public"."audit_log_partitioned"', 'id')`);
    expect(sql[6]).toBe(`ALTER SEQUENCE "public"."shared_seq" OWNED BY "public"."audit_log_partitioned"."n"`);
    const renames = sql.filter((s) => s.includes("RENAME"));
    expect(renames).toEqual([
      `ALTER TABLE "public"."audit_log" RENAME TO "audit_log_retired"`,
      `ALTER TABLE "public"."audit_log_partitioned" RENAME TO "audit_log"`,
    ]);
    expect(sql.indexOf(renames[1]!)).toBeLessThan(sql.findIndex((s) => s.startsWith("create trigger") && s.includes("reverse")));
    expect(sql.slice(-2)).toEqual([`GRANT SELECT ON "public"."audit_log" TO "reader"`, `GRANT INSERT ON "public"."audit_log" TO PUBLIC WITH GRANT OPTION`]);
  });

  test("swap: under the lock, source and copy must still have the columns the migration copies", () => {
    expect(columnsGuardSql("m", layout).split("\n")).toEqual([
      "DO $partkeeper_columns$",
      "DECLARE drift text;",
      "BEGIN",
      "  WITH cols AS (",
      `    SELECT a.attrelid = '"public"."audit_log"'::regclass AS in_source, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated <> '' AS generated`,
      `    FROM pg_attribute a WHERE a.attrelid IN ('"public"."audit_log"'::regclass, '"public"."audit_log_partitioned"'::regclass) AND a.attnum > 0 AND NOT a.attisdropped`,
      "  ), s AS (SELECT name, type, generated FROM cols WHERE in_source), c AS (SELECT name, type, generated FROM cols WHERE NOT in_source)",
      "  SELECT string_agg(d, '; ' ORDER BY d) INTO drift FROM (",
      "    SELECT format('column %I (%s) of %s is not in %s', name, type, 'public.audit_log', 'public.audit_log_partitioned') AS d FROM (SELECT * FROM s EXCEPT SELECT * FROM c) x",
      "    UNION ALL SELECT format('column %I (%s) of %s is not in %s', name, type, 'public.audit_log_partitioned', 'public.audit_log') AS d FROM (SELECT * FROM c EXCEPT SELECT * FROM s) x",
      "    UNION ALL SELECT format('column %I was added to both since the migration was prepared: the backfill and capture do not copy it', name) FROM s",
      "      WHERE NOT generated AND name <> ALL (ARRAY['id', 'created_at', 'n']::text[]) AND (name, type, generated) IN (SELECT * FROM c)",
      "  ) d;",
      "  IF drift IS NOT NULL THEN",
      "    RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state', MESSAGE = 'migration m: the columns of public.audit_log and of its copy " +
        "public.audit_log_partitioned are not the ones the migration copies (fixed when it was prepared): ' || drift || '; nothing was swapped. " +
        "Undo the column change, or convert the table again under a new migration id';",
      "  END IF;",
      "END",
      "$partkeeper_columns$",
    ]);
  });

  test("rollback: lock, drain the reverse capture into the retired table, carry sequences back, rename back, capture forward again", () => {
    const sql = rollbackSql("m", layout);
    expect(sql[0]).toBe(`LOCK TABLE "public"."audit_log", "public"."audit_log_retired" IN ACCESS EXCLUSIVE MODE`);
    expect(sql[1]).toMatch(/^delete from "public"\."audit_log_retired" t where/);
    expect(sql[2]).toMatch(/^insert into "public"\."audit_log_retired" .* from "public"\."audit_log" f/);
    expect(sql[5]).toBe(`ALTER SEQUENCE "public"."shared_seq" OWNED BY "public"."audit_log_retired"."n"`);
    expect(sql.filter((s) => s.includes("RENAME"))).toEqual([
      `ALTER TABLE "public"."audit_log" RENAME TO "audit_log_partitioned"`,
      `ALTER TABLE "public"."audit_log_retired" RENAME TO "audit_log"`,
    ]);
    expect(sql.at(-4)).toContain(`execute function "partkeeper"."m.forward"()`);
  });
});
