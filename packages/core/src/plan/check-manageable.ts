import type { PartitionMethod, ParentInfo } from "../catalog/types.ts";
import type { Strategy, TablePolicy } from "../config/schema.ts";
import { UnmanageableTableError } from "../errors.ts";
import { displayName } from "../identifier.ts";
import { integerKeyTypeOf } from "./integer-slots.ts";
import { timeKeyTypeOf } from "./time-slots.ts";

/** The Postgres partition method each strategy needs. */
export const METHOD_OF_STRATEGY = {
  "range-time": "range",
  "range-integer": "range",
  list: "list",
  hash: "hash",
} as const satisfies Record<Strategy, PartitionMethod>;

/** How many offending partitions a message names before `and N more`. */
const SHOWN_PARTITIONS = 5;

/**
 * Checks that partkeeper can manage `parent` with `policy`; returns nothing when it can.
 *
 * @throws UnmanageableTableError naming the parent (`schema.name`), the problem and the next step, when:
 * - the parent's method does not fit the strategy (range-time and range-integer need PARTITION BY RANGE,
 *   list needs LIST, hash needs HASH);
 * - the key is an expression, or has more than one column;
 * - the key type does not fit: range-time needs `timestamp with time zone`, `timestamp without time
 *   zone` or `date` (and `date` cannot take interval `hour`); range-integer needs smallint, integer or bigint;
 * - hash partitions exist with a modulus other than the configured one (changing it needs a migration);
 * - any partition is itself partitioned (sub-partitioning): partkeeper would neither expire such a
 *   partition nor create new ones like it, so the parent is refused rather than silently half-managed.
 */
export function checkManageable(policy: TablePolicy, parent: ParentInfo): void {
  const name = displayName(parent.parent);
  const fail = (problem: string) => {
    throw new UnmanageableTableError(`${name} ${problem}`);
  };

  const subPartitioned = parent.partitions.filter((p) => p.isPartitioned);
  if (subPartitioned.length) {
    const shown = subPartitioned.slice(0, SHOWN_PARTITIONS).map((p) => p.name.name);
    const more = subPartitioned.length > SHOWN_PARTITIONS ? ` and ${subPartitioned.length - SHOWN_PARTITIONS} more` : "";
    fail(
      `has sub-partitioned partitions (${shown.join(", ")}${more}): sub-partitioning is not supported, partkeeper manages ` +
        `parents whose partitions are plain tables; remove this table from the config and manage its partitions another way`,
    );
  }

  const needed = METHOD_OF_STRATEGY[policy.strategy];
  if (parent.method !== needed) {
    fail(
      `is partitioned by ${parent.method.toUpperCase()} but strategy ${policy.strategy} needs a ${needed.toUpperCase()} parent: ` +
        `fix the strategy of this table in the config, or re-create the table with PARTITION BY ${needed.toUpperCase()} (...)`,
    );
  }
  if (parent.keyHasExpression) {
    fail(
      `is partitioned by an expression: partkeeper manages a key that is one plain column; ` +
        `remove this table from the config or re-partition it by a column`,
    );
  }
  if (parent.keyColumns.length !== 1) {
    const columns = parent.keyColumns.map((c) => c.name).join(", ");
    fail(
      `is partitioned by ${parent.keyColumns.length} columns (${columns}): partkeeper manages a key that is one column; ` +
        `remove this table from the config or re-partition it by one column`,
    );
  }
  const key = parent.keyColumns[0]!;
  if (policy.strategy === "range-time") {
    const keyType = timeKeyTypeOf(key.type);
    if (keyType === null) {
      fail(
        `has partition key ${key.name} of type ${key.type}, but strategy range-time needs timestamp with time zone, ` +
          `timestamp without time zone or date: use strategy range-integer for an integer key, or fix the config`,
      );
    }
    if (keyType === "date" && policy.interval === "hour") {
      fail(
        `has partition key ${key.name} of type date, which cannot be split into hour partitions: ` +
          `use interval day or longer in the config`,
      );
    }
  }
  if (policy.strategy === "range-integer" && integerKeyTypeOf(key.type) === null) {
    fail(
      `has partition key ${key.name} of type ${key.type}, but strategy range-integer needs smallint, integer or bigint: ` +
        `use strategy range-time for a timestamp or date key, or fix the config`,
    );
  }
  if (policy.strategy === "hash") {
    const other = parent.partitions.find((p) => p.bounds.kind === "hash" && p.bounds.modulus !== policy.modulus);
    if (other && other.bounds.kind === "hash") {
      fail(
        `has hash partitions with modulus ${other.bounds.modulus} (e.g. ${other.name.name}) but the config says modulus ${policy.modulus}: ` +
          `changing the modulus needs a migration; set modulus ${other.bounds.modulus} in the config`,
      );
    }
  }
}
