import { describe, expect, test } from "vitest";
import type { CatalogSnapshot } from "../catalog/types.ts";
import { parseConfig } from "../config/load-config.ts";
import { UnmanageableTableError } from "../errors.ts";
import { qualifiedName } from "../identifier.ts";
import { planAll, type PlanRecords } from "./plan-all.ts";
import { archiveRecord, at, parent, range } from "./test-fixtures.ts";

const config = parseConfig({
  archive: { location: "s3://partkeeper-archive/prod" },
  tables: [
    { table: "missing", strategy: "range-time", interval: "month" },
    { schema: "Märkte", table: "Événements", strategy: "range-time", interval: "month", premake: 1, retention: "6 months" },
    { table: "plain", strategy: "range-integer", step: 1000 },
    { table: "Posts", strategy: "list", values: ["eu"] },
    { table: 'hej"hej', strategy: "hash", modulus: 2 },
  ],
});

const evenements = qualifiedName("Märkte", "Événements");
const snapshot: CatalogSnapshot = {
  parents: [
    parent({
      schema: "Märkte",
      name: "Événements",
      partitions: [range("Événements_p2024_01", "2024-01-01 00:00:00+00", "2024-02-01 00:00:00+00", { schema: "Märkte" })],
    }),
    parent({ name: "Posts", method: "range" }), // list policy on a range parent: unmanageable
    parent({ name: 'hej"hej', method: "hash", keyType: "uuid" }),
  ],
  missing: [qualifiedName("public", "missing")],
  notPartitioned: [qualifiedName("public", "plain")],
};
const records: PlanRecords = {
  unfinishedArchives: [
    archiveRecord(1, evenements, "Événements_p2023_06", "verified", { kind: "range", from: "2023-06-01 00:00:00+00", to: "2023-07-01 00:00:00+00" }),
  ],
  finalizedMigrations: new Set(),
};

const now = at("2024-08-10T00:00:00Z");

describe("planAll", () => {
  const plans = planAll(config, snapshot, records, now, { future: true, expired: true });

  test("one frozen entry per configured table, in config order", () => {
    expect(plans.map((p) => p.parent)).toEqual([
      qualifiedName("public", "missing"),
      evenements,
      qualifiedName("public", "plain"),
      qualifiedName("public", "Posts"),
      qualifiedName("public", 'hej"hej'),
    ]);
    expect(Object.isFrozen(plans)).toBe(true);
    for (const p of plans) {
      expect(Object.isFrozen(p)).toBe(true);
      expect(Object.isFrozen(p.actions)).toBe(true);
    }
  });

  test("a missing parent", () => {
    expect(plans[0]!.actions).toEqual([]);
    expect(plans[0]!.error).toBeInstanceOf(UnmanageableTableError);
    expect(plans[0]!.error!.message).toBe(
      "public.missing does not exist: create it as a partitioned table (CREATE TABLE ... PARTITION BY ...) or fix schema/table in the config",
    );
  });

  test("a table that is not partitioned", () => {
    expect(plans[2]!.actions).toEqual([]);
    expect(plans[2]!.error).toBeInstanceOf(UnmanageableTableError);
    expect(plans[2]!.error!.message).toBe(
      "public.plain is not partitioned: convert it with a migration of kind partition-table (docs/migrate.md) or remove it from the config",
    );
  });

  test("a table that is not partitioned yet but a migration converts: nothing to plan, no error", () => {
    const migrations = parseConfig({
      tables: [{ table: "plain", strategy: "hash", modulus: 2 }],
      migrations: [{ id: "partition-plain", kind: "partition-table", table: "plain", column: "id" }],
    }).migrations;
    const [plan] = planAll({ ...config, tables: [config.tables[2]!], migrations }, snapshot, { unfinishedArchives: [], finalizedMigrations: new Set() }, now, { future: true, expired: true });
    expect(plan!.error).toBeNull();
    expect(plan!.actions).toEqual([]);
    expect(plan!.waitingFor).toBe("not partitioned yet: migration partition-plain converts it (partkeeper migrate status)");
  });

  test("an unmanageable parent gets its error and no actions; the others are still planned", () => {
    expect(plans[3]!.actions).toEqual([]);
    expect(plans[3]!.error!.message).toMatch(/^public\.Posts is partitioned by RANGE but strategy list needs a LIST parent/);
    expect(plans[4]!.error).toBeNull();
    expect(plans[4]!.actions.map((a) => a.partition.name)).toEqual(['hej"hej_p0', 'hej"hej_p1']);
  });

  test("future actions (gaps, current, premake, default last) then expired ones (resumed archives first)", () => {
    const plan = plans[1]!;
    expect(plan.error).toBeNull();
    expect(plan.actions.map((a) => `${a.kind} ${a.partition.name}${"reason" in a ? ` (${a.reason})` : ""}`)).toEqual([
      // now - 6 months = 2024-02-10: Feb (ends Mar 1) is the first gap not expired
      "create-partition Événements_p2024_02 (gap)",
      "create-partition Événements_p2024_03 (gap)",
      "create-partition Événements_p2024_04 (gap)",
      "create-partition Événements_p2024_05 (gap)",
      "create-partition Événements_p2024_06 (gap)",
      "create-partition Événements_p2024_07 (gap)",
      "create-partition Événements_p2024_08 (current)",
      "create-partition Événements_p2024_09 (premake)",
      "create-default-partition Événements_default",
      "archive-partition Événements_p2023_06 (resume unfinished archive 1 of Événements_p2023_06 (state verified))",
      "archive-partition Événements_p2024_01 (expired: upper bound 2024-02-01 00:00:00+00 is older than 6 months)",
    ]);
    expect(plan.actions.every((a) => a.parent.schema === "Märkte" && a.partition.schema === "Märkte")).toBe(true);
  });

  test("`which` selects future and/or expired", () => {
    const futureOnly = planAll(config, snapshot, records, now, { future: true, expired: false })[1]!;
    expect(futureOnly.actions.every((a) => a.kind.startsWith("create-"))).toBe(true);
    const expiredOnly = planAll(config, snapshot, records, now, { future: false, expired: true })[1]!;
    expect(expiredOnly.actions.map((a) => a.kind)).toEqual(["archive-partition", "archive-partition"]);
    expect(planAll(config, snapshot, records, now, { future: false, expired: false }).every((p) => p.actions.length === 0)).toBe(true);
  });

  test("a parent absent from every list of the snapshot is reported missing", () => {
    const empty: CatalogSnapshot = { parents: [], missing: [], notPartitioned: [] };
    expect(planAll(config, empty, records, now, { future: true, expired: true })[1]!.error!.message).toMatch(/^Märkte\.Événements does not exist/);
  });

  test("an error while planning one parent (a name collision) is reported and does not stop the others", () => {
    const broken: CatalogSnapshot = {
      ...snapshot,
      parents: snapshot.parents.map((p) =>
        p.parent.name === "Événements"
          ? { ...p, partitions: [range("Événements_p2024_09", "2024-08-01 00:00:00+00", "2024-09-01 00:00:00+00", { schema: "Märkte" })] }
          : p,
      ),
    };
    const result = planAll(config, broken, records, now, { future: true, expired: true });
    expect(result[1]!.error!.message).toMatch(/already taken/);
    expect(result[1]!.actions).toEqual([]);
    expect(result[4]!.error).toBeNull();
  });
  test("a transform migration's target waits for its migration: not planned before prepare creates it, not archived before finalize", () => {
    const transform = parseConfig({
      tables: [{ table: "missing", strategy: "range-time", interval: "month", premake: 1 }],
      migrations: [
        {
          id: "fold",
          kind: "transform",
          driving: { table: "author", key: "id" },
          prepare: ["create table missing ()"],
          targets: [{ table: "missing" }, { schema: "Märkte", table: "Événements" }],
          transform: ["select 1"],
          capture: [{ table: "author", drivingKeys: "select id from changed" }],
          verify: [{ name: "n", source: "select 1", target: "select 1" }],
          cutover: { retire: [{ table: "old" }], views: [] },
        },
      ],
    }).migrations;
    const [waiting] = planAll({ ...config, tables: [config.tables[0]!], migrations: transform }, snapshot, records, now, { future: true, expired: true });
    expect(waiting).toMatchObject({ error: null, actions: [], waitingFor: "does not exist yet: migration fold creates it (partkeeper migrate status)" });
    const archived = (finalized: ReadonlySet<string>) =>
      planAll({ ...config, tables: [config.tables[1]!], migrations: transform }, snapshot, { ...records, finalizedMigrations: finalized }, now, { future: false, expired: true })[0]!.actions;
    expect(archived(new Set())).toEqual([]);
    expect(archived(new Set(["fold"])).length).toBeGreaterThan(0);
  });
});
