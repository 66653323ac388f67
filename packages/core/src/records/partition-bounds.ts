import type { Sql } from "../db/client.ts";

/**
 * Records the bounds of managed partitions attached since the last call, parsed once for the health
 * views, and forgets those of partitions detached, dropped or attached again since
 * (`partkeeper.record_partition_bounds()`, migration 0009). One statement per kind of change; a
 * no-op at 1,000 parents and 100,000 partitions takes about 0.15 s. The views stay right without it
 * (they read unrecorded bounds from the catalog); it keeps them fast.
 *
 * @returns the number of partitions recorded.
 */
export async function recordPartitionBounds(sql: Sql): Promise<number> {
  const [row] = await sql`select partkeeper.record_partition_bounds() as recorded`;
  return Number(row?.recorded ?? 0);
}
