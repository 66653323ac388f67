import { describe, expect, test } from "vitest";
import { UnmanageableTableError } from "../errors.ts";
import { checkManageable } from "./check-manageable.ts";
import { parent, partition, policy } from "./test-fixtures.ts";

const monthly = policy({ table: "events", strategy: "range-time", interval: "month" });
const hourly = policy({ table: "events", strategy: "range-time", interval: "hour" });
const integer = policy({ table: "events", strategy: "range-integer", step: 1000 });
const list = policy({ table: "events", strategy: "list", values: ["eu"] });
const hash = policy({ table: "events", strategy: "hash", modulus: 4 });

function errorOf(fn: () => void): UnmanageableTableError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UnmanageableTableError);
    return e as UnmanageableTableError;
  }
  throw new Error("expected an UnmanageableTableError");
}

describe("checkManageable accepts", () => {
  test.each([
    ["timestamp with time zone", "hour"],
    ["timestamp(3) with time zone", "day"],
    ["timestamp without time zone", "hour"],
    ["date", "day"],
    ["date", "week"],
    ["date", "year"],
  ] as const)("range-time on %s with interval %s", (keyType, interval) => {
    expect(() =>
      checkManageable(policy({ table: "events", strategy: "range-time", interval }), parent({ keyType })),
    ).not.toThrow();
  });

  test.each(["smallint", "integer", "bigint"])("range-integer on %s", (keyType) => {
    expect(() => checkManageable(integer, parent({ keyType }))).not.toThrow();
  });

  test("list and hash on any key type, hash with the configured modulus", () => {
    expect(() => checkManageable(list, parent({ method: "list", keyType: "text" }))).not.toThrow();
    expect(() =>
      checkManageable(
        hash,
        parent({ method: "hash", keyType: "uuid", partitions: [partition("events_p0", { kind: "hash", modulus: 4, remainder: 0 })] }),
      ),
    ).not.toThrow();
  });
});

describe("checkManageable refuses, naming the parent, the problem and the next step", () => {
  test.each([
    [monthly, "list", "RANGE"],
    [integer, "hash", "RANGE"],
    [list, "range", "LIST"],
    [hash, "list", "HASH"],
  ] as const)("strategy %# on the wrong method", (p, method, needed) => {
    const e = errorOf(() => checkManageable(p, parent({ method, keyType: "bigint" })));
    expect(e.message).toBe(
      `public.events is partitioned by ${method.toUpperCase()} but strategy ${p.strategy} needs a ${needed} parent: ` +
        `fix the strategy of this table in the config, or re-create the table with PARTITION BY ${needed} (...)`,
    );
  });

  test("an expression key", () => {
    const e = errorOf(() => checkManageable(monthly, parent({ keyHasExpression: true, keyColumns: [] })));
    expect(e.message).toBe(
      "public.events is partitioned by an expression: partkeeper manages a key that is one plain column; remove this table from the config or re-partition it by a column",
    );
  });

  test("more than one key column", () => {
    const e = errorOf(() =>
      checkManageable(
        monthly,
        parent({
          keyColumns: [
            { name: "tenant", type: "integer" },
            { name: "createdAt", type: "timestamp with time zone" },
          ],
        }),
      ),
    );
    expect(e.message).toBe(
      "public.events is partitioned by 2 columns (tenant, createdAt): partkeeper manages a key that is one column; remove this table from the config or re-partition it by one column",
    );
  });

  test("range-time on a non-time key", () => {
    const e = errorOf(() => checkManageable(monthly, parent({ keyType: "bigint" })));
    expect(e.message).toBe(
      "public.events has partition key createdAt of type bigint, but strategy range-time needs timestamp with time zone, timestamp without time zone or date: use strategy range-integer for an integer key, or fix the config",
    );
  });

  test("range-time hourly on a date key", () => {
    const e = errorOf(() => checkManageable(hourly, parent({ keyType: "date" })));
    expect(e.message).toBe(
      "public.events has partition key createdAt of type date, which cannot be split into hour partitions: use interval day or longer in the config",
    );
  });

  test.each(["numeric", "timestamp with time zone", "text"])("range-integer on %s", (keyType) => {
    const e = errorOf(() => checkManageable(integer, parent({ keyType })));
    expect(e.message).toBe(
      `public.events has partition key createdAt of type ${keyType}, but strategy range-integer needs smallint, integer or bigint: use strategy range-time for a timestamp or date key, or fix the config`,
    );
  });

  test("hash partitions with another modulus", () => {
    const e = errorOf(() =>
      checkManageable(
        hash,
        parent({
          method: "hash",
          keyType: "uuid",
          partitions: [
            partition("events_p0", { kind: "hash", modulus: 8, remainder: 0 }),
            partition("events_p1", { kind: "hash", modulus: 8, remainder: 1 }),
          ],
        }),
      ),
    );
    expect(e.message).toBe(
      "public.events has hash partitions with modulus 8 (e.g. events_p0) but the config says modulus 4: changing the modulus needs a migration; set modulus 8 in the config",
    );
  });

  test("sub-partitioned partitions, named (at most five), whatever the strategy", () => {
    const sub = (name: string, from: string, to: string) => partition(name, { kind: "range", from, to }, { isPartitioned: true });
    const e = errorOf(() =>
      checkManageable(
        monthly,
        parent({
          partitions: [
            partition("events_p2024_01", { kind: "range", from: "2024-01-01 00:00:00+00", to: "2024-02-01 00:00:00+00" }),
            sub("events_p2024_02", "2024-02-01 00:00:00+00", "2024-03-01 00:00:00+00"),
            partition("events_default", { kind: "default" }, { isPartitioned: true }),
          ],
        }),
      ),
    );
    expect(e.message).toBe(
      "public.events has sub-partitioned partitions (events_p2024_02, events_default): sub-partitioning is not supported, " +
        "partkeeper manages parents whose partitions are plain tables; remove this table from the config and manage its partitions another way",
    );
    const many = Array.from({ length: 7 }, (_, i) => partition(`events_p${i}`, { kind: "list", values: [String(i)] }, { isPartitioned: true }));
    expect(errorOf(() => checkManageable(list, parent({ method: "list", keyType: "text", partitions: many }))).message).toMatch(
      /^public\.events has sub-partitioned partitions \(events_p0, events_p1, events_p2, events_p3, events_p4 and 2 more\): sub-partitioning is not supported/,
    );
  });

  test("names with quotes, upper case and unicode appear as they are", () => {
    expect(errorOf(() => checkManageable(monthly, parent({ name: 'hej"hej', method: "list" }))).message).toMatch(/^public\.hej"hej is partitioned by LIST/);
    expect(errorOf(() => checkManageable(monthly, parent({ schema: "Märkte", name: "Posts", keyType: "text" }))).message).toMatch(
      /^Märkte\.Posts has partition key/,
    );
  });
});
