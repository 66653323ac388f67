import type { ConfigInput } from "@partkeeper/core";

/**
 * The todo-archive example (README.md): completed todos leave the hot `todo` table for the monthly
 * partitions of `todo_archive` a month after completion, once a day; after two years a month of the
 * archive goes to S3 as Parquet and its partition is dropped.
 *
 *   partkeeper migrate plan   --config examples/todo-archive/partkeeper.config.ts
 *   partkeeper migrate run    --config examples/todo-archive/partkeeper.config.ts
 *   partkeeper run            --config examples/todo-archive/partkeeper.config.ts --archive s3://bucket/prefix
 */
export default {
  tables: [
    // The active table: partkeeper only checks its 8 hash partitions are there (and creates a missing one).
    { table: "todo", strategy: "hash", modulus: 8 },
    {
      table: "todo_archive",
      strategy: "range-time",
      interval: "month",
      premake: 2,
      // No default partition: the move creates the months its rows need, and detaches can be CONCURRENTLY.
      defaultPartition: false,
      retention: "2 years",
      archive: { enabled: true },
    },
  ],
  archive: { location: "s3://my-bucket/partkeeper" },
  migrations: [
    {
      id: "archive-completed-todos",
      kind: "move",
      table: "todo",
      key: "id",
      target: { table: "todo_archive" },
      where: "completed and completed_at < now() - interval '30 days'",
      batchSize: 1000,
      every: "1 day",
    },
  ],
} satisfies ConfigInput;
