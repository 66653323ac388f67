import { describe, expect, test } from "vitest";
import { qualifiedName } from "../identifier.ts";
import { captureTable, createCaptureSql, drainSql, dropCaptureTriggerSql, installCaptureTriggerSql, triggerNames, type Capture } from "./capture.ts";

const capture: Capture = {
  id: "m-1",
  direction: "forward",
  watched: qualifiedName("app", "Events"),
  keys: [{ name: "id", type: "bigint" }],
};

describe("capture", () => {
  test("lives in partkeeper's schema, named after the migration and direction", () => {
    expect(captureTable(capture)).toEqual({ schema: "partkeeper", name: "m-1.forward" });
  });

  test("records the old key of deletes and key-changing updates, the new key of inserts and updates, and refuses TRUNCATE", () => {
    const [table, fn] = createCaptureSql(capture);
    expect(table).toBe(`create table "partkeeper"."m-1.forward" (capture_id bigint generated always as identity primary key, "id" bigint not null)`);
    expect(fn).toContain(`if tg_op = 'DELETE' or (tg_op = 'UPDATE' and not (old."id" is not distinct from new."id")) then insert into "partkeeper"."m-1.forward" ("id") values (old."id"); end if;`);
    expect(fn).toContain(`if tg_op in ('INSERT', 'UPDATE') then insert into "partkeeper"."m-1.forward" ("id") values (new."id"); end if;`);
    expect(fn).toContain("if tg_op = 'TRUNCATE' then");
  });

  test("a column name holding the function body's delimiter is refused", () => {
    expect(() => createCaptureSql({ ...capture, keys: [{ name: "$partkeeper_capture$", type: "int" }] })).toThrow(/delimiter|contains/);
  });

  test("triggers fire always (also under session_replication_role = replica) and are dropped by name", () => {
    const sql = installCaptureTriggerSql(capture);
    expect(sql[0]).toBe(`create trigger "partkeeper_m-1_forward" after insert or update or delete on "app"."Events" for each row execute function "partkeeper"."m-1.forward"()`);
    expect(sql[1]).toContain("before truncate");
    expect(sql.slice(2)).toEqual([
      `alter table "app"."Events" enable always trigger "partkeeper_m-1_forward"`,
      `alter table "app"."Events" enable always trigger "partkeeper_m-1_forward_truncate"`,
    ]);
    expect(dropCaptureTriggerSql(capture, qualifiedName("app", "Events_retired"))).toEqual([
      `drop trigger if exists "partkeeper_m-1_forward" on "app"."Events_retired"`,
      `drop trigger if exists "partkeeper_m-1_forward_truncate" on "app"."Events_retired"`,
    ]);
  });

  test("trigger names stay within 63 bytes and apart for the longest ids; shorter ids keep the plain names", () => {
    // 43 characters: the names Postgres always gave them (the second one cut to 63 bytes).
    expect(triggerNames({ id: "a".repeat(43), direction: "reverse" })).toEqual({
      rows: `partkeeper_${"a".repeat(43)}_reverse`,
      truncate: `partkeeper_${"a".repeat(43)}_reverse_`,
    });
    const long = (id: string, direction: "forward" | "reverse") => triggerNames({ id, direction });
    const names = [long("a".repeat(48), "forward"), long("a".repeat(48), "reverse"), long(`${"a".repeat(47)}b`, "forward"), long("a".repeat(44), "forward")].flatMap((n) => [n.rows, n.truncate]);
    expect(new Set(names).size).toBe(8);
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^partkeeper_a{24}_[0-9a-f]{8}_(forward|reverse)(_truncate)?$/);
    }
    expect(installCaptureTriggerSql({ ...capture, id: "a".repeat(48) })[0]).toContain(`create trigger "${long("a".repeat(48), "forward").rows}"`);
  });

  test("a bounded drain picks the same oldest capture rows in all three statements", () => {
    const drain = { capture, from: qualifiedName("app", "Events"), to: qualifiedName("app", "Events_partitioned"), columns: ["id", "at"] };
    const [del, ins, consumed] = drainSql(drain, 500);
    const picked = `select capture_id from "partkeeper"."m-1.forward" order by capture_id limit 500`;
    expect(del).toContain(picked);
    expect(ins).toContain(picked);
    expect(consumed).toBe(`delete from "partkeeper"."m-1.forward" where capture_id in (${picked})`);
    expect(del).toMatch(/^delete from "app"\."Events_partitioned" t where t\."id" = any\(array\(select "id" from \(select "id" from "partkeeper"\."m-1\.forward" where capture_id in/);
    expect(ins).toMatch(/^insert into "app"\."Events_partitioned" \("id", "at"\) overriding system value select f\."id", f\."at" from "app"\."Events" f where f\."id" = any\(array\(/);
  });

  test("an unbounded drain (under the swap's lock) takes every capture row", () => {
    const drain = { capture, from: qualifiedName("app", "Events"), to: qualifiedName("app", "Events_partitioned"), columns: ["id"] };
    expect(drainSql(drain, null)[2]).toBe(`delete from "partkeeper"."m-1.forward"`);
    expect(drainSql(drain, null)[0]).not.toContain("limit");
  });
});

describe("drain of a composite key", () => {
  test("probes the first key column's index, then matches the whole key with one hashed IN", () => {
    const composite: Capture = { ...capture, keys: [{ name: "tenant", type: "int" }, { name: "id", type: "bigint" }] };
    const drain = { capture: composite, from: qualifiedName("app", "Events"), to: qualifiedName("app", "Events_partitioned"), columns: ["tenant", "id"] };
    const [del] = drainSql(drain, 100);
    expect(del).toMatch(/^delete from "app"\."Events_partitioned" t where t\."tenant" = any\(array\(select "tenant" from/);
    expect(del).toContain(`and (t."tenant", t."id") in (select "tenant", "id" from (select "tenant", "id" from "partkeeper"."m-1.forward" where capture_id in`);
  });
});
