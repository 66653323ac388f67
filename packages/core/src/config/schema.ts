import { IANAZone } from "luxon";
import { z } from "zod";
import { MAX_IDENTIFIER_BYTES, qualifiedName, type QualifiedName } from "../identifier.ts";
import { ConfigError } from "../errors.ts";
import { PARQUET_VERSIONS } from "../parquet/parquet-version.ts";
import { parseArchiveLocation, type ArchiveLocation } from "../store/archive-location.ts";
import { approximateHours, parseCalendarDuration, type CalendarDuration } from "./duration.ts";

/** Widths of one range-time partition. */
export const INTERVALS = ["hour", "day", "week", "month", "quarter", "year"] as const;
export type Interval = (typeof INTERVALS)[number];

export const STRATEGIES = ["range-time", "range-integer", "list", "hash"] as const;
export type Strategy = (typeof STRATEGIES)[number];

const identifier = z
  .string()
  .min(1, "must not be empty")
  .refine((s) => Buffer.byteLength(s, "utf8") <= MAX_IDENTIFIER_BYTES, {
    message: `must be at most ${MAX_IDENTIFIER_BYTES} bytes (Postgres NAMEDATALEN - 1)`,
  });

const calendarDuration = z.string().transform((text, ctx): CalendarDuration => {
  const parsed = parseCalendarDuration(text);
  if (!parsed) {
    ctx.addIssue({
      code: "custom",
      message: `"${text}" is not a duration: use "6 months", "30 days", "1 year 2 months" or ISO-8601 like "P6M"`,
    });
    return z.NEVER;
  }
  return parsed;
});

// Field descriptions ship in partkeeper.schema.json (editor hover) and are the field tables of
// docs/config.md (`npm run schema` writes both): write them for users, in markdown.

const archivePolicy = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe(
      "Archive expired partitions to Parquet before dropping them. `false`: drop (or detach, with `retentionKeepTable`) without an archive.",
    ),
  prefix: z.string().min(1).optional().describe("Key prefix under `archive.location`; default `<schema>/<table>`."),
});

const strategyField = <S extends Strategy>(strategy: S) =>
  z.literal(strategy).describe("How the parent is partitioned; must match its `PARTITION BY`.");

/** Fields every strategy shares. */
const tableBase = {
  schema: identifier.default("public").describe("Schema of the parent table."),
  table: identifier.describe(
    "Name of the partitioned parent, exactly as in Postgres: case, spaces, quotes and unicode are kept and quoted correctly. " +
      `At most ${MAX_IDENTIFIER_BYTES} bytes. A parent with a sub-partitioned partition (a partition that is itself \`PARTITION BY ...\`) ` +
      "is refused, by name, in `plan`, `run` and `status`: sub-partitioning is not supported.",
  ),
  defaultPartition: z
    .boolean()
    .default(true)
    .describe(
      "Keep a default partition (`<table>_default`) so out-of-range rows are caught instead of failing inserts. " +
        "Rows there are moved into a new partition when its range is created (same transaction); writes through the parent " +
        "wait for that transaction (the parent is locked `SHARE ROW EXCLUSIVE`, reads go on) and are then routed to the new " +
        "partition, so keep the default partition small. With a default partition, detach cannot use `CONCURRENTLY` " +
        "(Postgres refuses), so expired partitions are detached with a short ACCESS EXCLUSIVE lock under `lock_timeout`.",
    ),
};

const retentionFields = {
  retentionKeepTable: z
    .boolean()
    .default(false)
    .describe(
      "Keep expired partitions as detached tables instead of dropping them (after archiving, if archiving is on); " +
        "pg_partman's `retention_keep_table`.",
    ),
  archive: archivePolicy.default({ enabled: true }).describe("Archiving of expired partitions."),
};

const rangeTime = z.strictObject({
  ...tableBase,
  ...retentionFields,
  strategy: strategyField("range-time"),
  interval: z.enum(INTERVALS).describe("Width of one partition; `week` is an ISO week, starting on Monday."),
  // DESIGN rule 3.
  premake: z
    .int()
    .min(0, "must be 0 or more")
    .max(1000)
    .default(4)
    .describe(
      "Partitions kept ready after the current one, counted from `now()` in `timeZone`, never from the newest row " +
        "(pg_partman #175, #374, #585).",
    ),
  timeZone: z
    .string()
    .default("UTC")
    .refine((zone) => IANAZone.isValidZone(zone), { message: "is not an IANA time zone such as Europe/Berlin" })
    .describe(
      "IANA zone in which boundaries fall (local midnight, month start). DST days are 23 or 25 hours long; " +
        "a repeated local hour gets a `_2` name.",
    ),
  retention: calendarDuration
    .optional()
    .describe(
      "Age after which a partition expires: when its upper bound is at or before now minus retention. " +
        '`"6 months"`, `"30 days"`, `"1 year 2 months"` or ISO-8601 `"P6M"`; at least one `interval`. ' +
        "Unset: partitions never expire.",
    ),
});

const rangeInteger = z.strictObject({
  ...tableBase,
  ...retentionFields,
  strategy: strategyField("range-integer"),
  step: z.int().min(1, "must be 1 or more").describe("Width of one partition in key values."),
  premake: z
    .int()
    .min(0, "must be 0 or more")
    .max(1000)
    .default(4)
    .describe("Partitions kept ready above the one holding `max(key)`."),
  retention: z
    .int()
    .min(1, "must be 1 or more")
    .optional()
    .describe(
      "In key values: a partition expires when its upper bound is at or below `max(key) - retention`. " +
        "At least one `step`. Unset: partitions never expire.",
    ),
});

const listValue = z.union([z.string(), z.int()]);

const list = z.strictObject({
  ...tableBase,
  strategy: strategyField("list"),
  values: z
    .array(listValue)
    .default([])
    .describe(
      "Values that must each have a partition; a missing one gets `<table>_p_<value>` " +
        "(rows already in the default partition are moved into it).",
    ),
});

const hash = z.strictObject({
  ...tableBase,
  defaultPartition: z
    .literal(false, "hash-partitioned tables cannot have a default partition")
    .default(false)
    .describe("Always `false`: hash-partitioned tables cannot have a default partition."),
  strategy: strategyField("hash"),
  modulus: z
    .int()
    .min(1, "must be 1 or more")
    .max(1024)
    .describe(
      "Number of partitions; every remainder `0..modulus-1` gets `<table>_p<remainder>`. " +
        "A parent whose existing partitions use another modulus is refused: changing it needs a migration.",
    ),
});

const tablePolicy = z
  .discriminatedUnion("strategy", [rangeTime, rangeInteger, list, hash], {
    error: (issue) =>
      issue.code === "invalid_union" ? `strategy must be one of ${STRATEGIES.join(", ")}` : undefined,
  })
  .superRefine((t, ctx) => {
    if (t.strategy === "range-time" && t.retention) {
      if (approximateHours(t.retention) < approximateHours({ [`${t.interval}s`]: 1 })) {
        ctx.addIssue({
          code: "custom",
          path: ["retention"],
          message: `is shorter than one ${t.interval} interval: every partition would expire as soon as it is created`,
        });
      }
    }
    if (t.strategy === "range-integer" && t.retention !== undefined && t.retention < t.step) {
      ctx.addIssue({ code: "custom", path: ["retention"], message: `is shorter than one step (${t.step})` });
    }
  })
  // The rest of core names a parent by QualifiedName only: `schema` + `table` become `parent`, once.
  .transform((t) => {
    const { schema, table, ...policy } = t;
    return { ...policy, parent: qualifiedName(schema, table) } as WithParent<typeof t>;
  });

/** A policy as parsed: `parent` in place of the `schema` and `table` fields (per strategy). */
type WithParent<T> = T extends unknown ? Omit<T, "schema" | "table"> & { readonly parent: QualifiedName } : never;

/** How a batched migration sizes and paces its batches. */
const migrationBatch = z.strictObject({
  targetMs: z
    .int()
    .min(10)
    .max(60_000)
    .default(500)
    .describe(
      "Target duration of one backfill batch, ms: the batch size grows or shrinks after each batch to meet it " +
        "(GitLab's batched background migrations tune batch sizes the same way). Each batch is one short transaction.",
    ),
  initialSize: z.int().min(1).max(1_000_000).default(1000).describe("Rows in the first batch."),
  maxSize: z.int().min(1).max(10_000_000).default(100_000).describe("Most rows in one batch, whatever `targetMs` allows."),
  pauseMs: z
    .int()
    .min(0)
    .max(60_000)
    .default(0)
    .describe("Pause between batches, ms, to leave the database room for the application."),
});

/** Ids name partkeeper's records and capture tables: short, lowercase, no quoting surprises. */
const migrationId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,47}$/, "must be 1-48 characters of a-z, 0-9, _ and -, starting with a letter or digit")
  .describe("Stable name of the migration: its records are kept under it. Reusing it with another table or column is refused.");

const partitionTableMigration = z
  .strictObject({
    id: migrationId,
    kind: z.literal("partition-table").describe("Turn a live, unpartitioned table into a partitioned one (capture, backfill, verify, swap)."),
    schema: identifier.default("public").describe("Schema of the table to convert."),
    table: identifier.describe(
      "The unpartitioned table. The config's `tables` must have its policy (strategy, interval or step, premake, retention), " +
        "which the partitioned table gets; after the swap it is an ordinary parent, maintained and archived by the other jobs.",
    ),
    column: identifier.describe("The partition key column. It must be NOT NULL and hold no NULLs."),
    batch: migrationBatch.default({ targetMs: 500, initialSize: 1000, maxSize: 100_000, pauseMs: 0 }).describe("Backfill batch sizing and pacing."),
    swap: z
      .enum(["manual", "auto"])
      .default("manual")
      .describe(
        "`manual`: `migrate run` stops once the copy is verified, and `migrate swap` (or the Lambda event " +
          '`{"job":"migrate","action":"swap","id":...}`) swaps. `auto`: `migrate run` swaps as soon as verification passes.',
      ),
    finalizeAfter: z
      .string()
      .default("7 days")
      .pipe(calendarDuration)
      .describe(
        "Grace period after the swap during which `migrate rollback` can swap back; after it `migrate run` finalizes: " +
          "drops the retired table and the reverse capture.",
      ),
  })
  .transform((m) => {
    const { schema, table, ...rest } = m;
    return { ...rest, table: qualifiedName(schema, table) };
  });

/** A table a spec names: schema (default public) and name. */
const specTable = z
  .strictObject({ schema: identifier.default("public").describe("Schema of the table."), table: identifier.describe("The table's name.") })
  .transform((t) => qualifiedName(t.schema, t.table));

/** SQL text from a spec (the spec is code, reviewed like a schema migration: it is run as written). */
const sqlText = z.string().trim().min(1, "must not be empty");

/** A source table whose writes re-run the transform for the driving keys they touch. */
const capturedTable = z
  .strictObject({
    schema: identifier.default("public").describe("Schema of the captured table."),
    table: identifier.describe("A table whose inserts, updates and deletes are captured."),
    drivingKeys: sqlText.describe(
      "A query over `changed` (the rows a statement inserted, updated or deleted, old and new images, columns of this table) " +
        "returning one column: the driving keys those rows belong to, e.g. `select record_id from changed`, or with a join " +
        "`select h.record_id from changed c join public.record_history h on h.id = c.history_id`.",
    ),
  })
  .transform(({ schema, table, drivingKeys }) => ({ table: qualifiedName(schema, table), drivingKeys }));

/** A check comparing sources and targets over one set of driving keys (`$1`). */
const verifyCheck = z.union([
  z.strictObject({
    name: z.string().min(1).describe("Names the check in reports."),
    source: sqlText.describe("Query over the sources for the driving keys `$1` (an array), returning one row of aggregates."),
    target: sqlText.describe("The same aggregates over the targets; the row must equal the source's, column by column."),
  }),
  z.strictObject({
    name: z.string().min(1).describe("Names the check in reports."),
    rows: z
      .strictObject({ source: specTable, target: specTable, key: identifier.describe("Column of both tables holding the driving key.") })
      .describe("Built-in: equal row counts per driving key set, for a 1:1 mapping."),
  }),
  z.strictObject({
    name: z.string().min(1).describe("Names the check in reports."),
    hash: z
      .strictObject({
        source: specTable,
        target: specTable,
        key: identifier.describe("Column of both tables holding the driving key."),
        columns: z.array(identifier).min(1).describe("Columns both tables have, compared by value (md5 of their text, summed)."),
      })
      .describe("Built-in: equal row counts and values of `columns`, for a 1:1 mapping."),
  }),
]);

const transformMigration = z
  .strictObject({
    id: migrationId,
    kind: z
      .literal("transform")
      .describe("A user-defined, batched, idempotent transform from source tables into new ones, with capture, verification, cutover to compatibility views, and rollback."),
    driving: z
      .strictObject({
        schema: identifier.default("public").describe("Schema of the driving table."),
        table: identifier.describe("The driving table."),
        key: identifier.describe("A column with a primary key or unique index of its own, NOT NULL: batches are sets of its values."),
      })
      .describe("The table whose keys drive the batches, e.g. the record every history row belongs to."),
    prepare: z
      .array(sqlText)
      .min(1)
      .describe("DDL creating the target tables, run once in the prepare step's transaction."),
    targets: z
      .array(
        z.strictObject({
          schema: identifier.default("public").describe("Schema of the target."),
          table: identifier.describe("A table the prepare statements create."),
          coverFrom: sqlText
            .optional()
            .describe("For a target with a policy in `tables`: a query returning the lowest partition key value to copy; partitions are created from its slot through premake before the backfill."),
        }),
      )
      .min(1)
      .describe("The tables `prepare` creates; finalize keeps them, and rollback after cutover leaves them in place."),
    transform: z
      .array(sqlText)
      .min(1)
      .describe(
        "Statements for one batch: `$1` is the array of driving keys. They must be idempotent (delete then insert the targets' rows of those keys): " +
          "a batch is re-run for every captured change of its keys, and the engine runs the first batch of each run twice and compares.",
      ),
    capture: z.array(capturedTable).min(1).describe("Source tables whose writes re-run the transform for their driving keys (include the driving table)."),
    verify: z.array(verifyCheck).min(1).describe("Checks that sources and targets agree, run per range of driving keys before cutover."),
    cutover: z
      .strictObject({
        retire: z.array(specTable).min(1).describe("Old tables renamed to `<name>_retired` at cutover."),
        views: z.array(sqlText).describe("`create view` statements giving old names to the new tables, run in the cutover's transaction."),
      })
      .describe("The cutover: one short transaction under lock_timeout."),
    reverse: z
      .strictObject({
        capture: z.array(capturedTable).min(1).describe("Target tables whose writes after cutover are replayed into the retired tables."),
        transform: z.array(sqlText).min(1).describe("Statements writing the retired tables from the targets for the driving keys `$1`; idempotent."),
      })
      .optional()
      .describe("How writes made through the new tables after cutover reach the old ones. Without it, rollback is refused."),
    batch: migrationBatch.default({ targetMs: 500, initialSize: 1000, maxSize: 100_000, pauseMs: 0 }).describe("Batch sizing and pacing (in driving keys)."),
    swap: z.enum(["manual", "auto"]).default("manual").describe("`manual`: cutover by `migrate swap`; `auto`: as soon as verification passes."),
    finalizeAfter: z.string().default("7 days").pipe(calendarDuration).describe("Grace period after cutover during which rollback is possible; then finalize drops the retired tables."),
  })
  .transform((m) => {
    const { driving, targets, ...rest } = m;
    return {
      ...rest,
      table: qualifiedName(driving.schema, driving.table),
      key: driving.key,
      targets: targets.map((t) => ({ table: qualifiedName(t.schema, t.table), coverFrom: t.coverFrom ?? null })),
    };
  });

const moveMigration = z
  .strictObject({
    id: migrationId,
    kind: z.literal("move").describe("A recurring batched move that never finishes: rows matching `where` go from `table` to `target`, a batch per short transaction."),
    schema: identifier.default("public").describe("Schema of the table rows are moved out of."),
    table: identifier.describe("The table rows are moved out of."),
    key: identifier.describe("A column with a primary key or unique index of its own: batches are taken in its order."),
    target: specTable.describe("The table rows are moved into; it has every column of `table` by name. With a policy in `tables` its partitions are created as rows need them."),
    where: sqlText.describe("Condition on `table`'s columns that selects the rows to move, e.g. `completed_at < now() - interval '30 days'`."),
    batchSize: z.int().min(1).max(100_000).default(1000).describe("Rows per batch (one transaction)."),
    pauseMs: z.int().min(0).max(60_000).default(0).describe("Pause between batches, ms."),
    every: z.string().default("1 day").pipe(calendarDuration).describe("Starts a pass when the last complete pass ended at least this long ago."),
  })
  .transform((m) => {
    const { schema, table, ...rest } = m;
    return { ...rest, table: qualifiedName(schema, table) };
  });

const migrationSpec = z.discriminatedUnion("kind", [partitionTableMigration, transformMigration, moveMigration], {
  error: (issue) => (issue.code === "invalid_union" ? "kind must be one of partition-table, transform, move" : undefined),
});

/** The `stats` of a config that has none: no materialized views, parents and partitions analyzed, 10 minutes. */
export const STATS_DEFAULT = {
  materializedViews: [] as never[],
  analyze: { parents: true, parentsEvery: { days: 1 }, partitions: true },
  budgetSeconds: 600,
};

const materializedView = z
  .strictObject({
    schema: identifier.default("public").describe("Schema of the materialized view."),
    view: identifier.describe("Name of the materialized view, exactly as in Postgres."),
    concurrently: z
      .enum(["auto", "always", "never"], "must be one of auto, always, never")
      .default("auto")
      .describe(
        "`REFRESH MATERIALIZED VIEW CONCURRENTLY` (readers are never blocked) needs a unique index on plain columns of the view, " +
          "without WHERE, and a populated view (Postgres docs, REFRESH MATERIALIZED VIEW). `auto`: concurrently when the view has one, " +
          "else a plain refresh (ACCESS EXCLUSIVE: readers wait, under `lock_timeout`) with a warning; `always`: refuse a view without one; " +
          "`never`: always plain.",
      ),
    every: z
      .string()
      .optional()
      .pipe(calendarDuration.optional())
      .describe("Refresh at most this often (`\"1 hour\"`, `\"1 day\"`): a run skips the view while its last successful refresh is younger. Unset: every run."),
  })
  // The rest of core names relations by QualifiedName: `schema` + `view` become `view`, once.
  .transform(({ schema, view, ...rest }) => ({ ...rest, view: qualifiedName(schema, view) }));

const stats = z
  .strictObject({
    materializedViews: z
      .array(materializedView)
      .default([])
      .describe("Materialized views the `refresh-stats` job refreshes, oldest refresh first; two refreshes of one view never overlap."),
    analyze: z
      .strictObject({
        parents: z
          .boolean()
          .default(true)
          .describe(
            "ANALYZE each managed parent: autovacuum never processes partitioned tables, so without it the parent has no statistics of its " +
              "own and plans of queries over the parent suffer (Postgres docs, Routine Vacuuming, 'Updating Planner Statistics'). " +
              "On PostgreSQL 18 and later `ANALYZE ONLY` (the parent's statistics alone); before 18 ANALYZE of a parent also analyzes every partition.",
          ),
        parentsEvery: z.string().default("1 day").pipe(calendarDuration).describe("A parent is analyzed again once its last analyze by partkeeper is this old."),
        partitions: z
          .boolean()
          .default(true)
          .describe(
            "ANALYZE partitions of managed parents that were never analyzed (created, filled by default-partition moves, restored or backfilled) " +
              "or changed past autovacuum's threshold since their last analyze, most changed first.",
          ),
      })
      .default(STATS_DEFAULT.analyze)
      .describe("What the `refresh-stats` job analyzes."),
    budgetSeconds: z
      .int()
      .min(1)
      .max(840)
      .default(600)
      .describe(
        "Time budget of one `refresh-stats` run, seconds: each refresh and ANALYZE runs with `statement_timeout` set to what is left. " +
          "A refresh cut off by it is reported `stopped` and is first in line on the next run; analyses left over wait for the next run.",
      ),
  })
  .default(STATS_DEFAULT);

/** Default `maintain.concurrency`: parents the maintain job works on at once (docs/figures.md, "Creating 200 x 32 partitions"). */
export const DEFAULT_MAINTAIN_CONCURRENCY = 2;
/** Upper bound of `maintain.concurrency`: two connections each stays well within a server's default max_connections (100). */
export const MAX_MAINTAIN_CONCURRENCY = 16;

/** Default `archive.partSize`: every partition up to 4 GB of table is archived as one object. */
export const DEFAULT_ARCHIVE_PART_SIZE = "4GB";

/** `"512MB"` -> 536870912: kB, MB, GB, TB of 1024, as Postgres memory settings. */
export function parseByteSize(text: string): number {
  const match = /^(\d+)\s*(kB|MB|GB|TB)$/.exec(text);
  if (!match) throw new ConfigError(`"${text}" is not a size like "512MB" or "4GB"`);
  const power = { kB: 1, MB: 2, GB: 3, TB: 4 }[match[2] as "kB" | "MB" | "GB" | "TB"];
  return Number(match[1]) * 1024 ** power;
}

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().describe("Path or URL of `partkeeper.schema.json`, for editor completion; partkeeper ignores it."),
    archive: z
      .strictObject({
        location: z
          .string()
          .transform((location, ctx): ArchiveLocation => {
            try {
              return parseArchiveLocation(location);
            } catch (error) {
              ctx.addIssue({ code: "custom", message: (error as Error).message });
              return z.NEVER;
            }
          })
          .describe(
            "`s3://bucket/prefix` where archives go. `--archive` (CLI) or `PARTKEEPER_ARCHIVE` (Lambda) override it.",
          ),
        partSize: z
          .string()
          .regex(/^[1-9]\d*\s*(kB|MB|GB|TB)$/, 'must be a size like "512MB" or "4GB" (units kB, MB, GB, TB of 1024)')
          .default(DEFAULT_ARCHIVE_PART_SIZE)
          .transform(parseByteSize)
          .describe(
            "Table size (heap and TOAST, as `pg_table_size`) per Parquet part: a partition larger than this is archived in several parts " +
              "(page ranges), each exported, uploaded, verified and recorded on its own, so a run stopped by its deadline continues with the " +
              "next part on the next run and temporary disk holds one part. Size it so a part takes well under the archive function's timeout " +
              "(about 30 MB of table per second was measured, docs/figures.md). Smaller partitions are one `data.parquet`.",
          ),
        parquetVersion: z
          .enum(PARQUET_VERSIONS, `must be one of ${PARQUET_VERSIONS.join(", ")}`)
          .default("v1")
          .describe(
            "Parquet format version archives are written in. `v1`: encodings every Parquet reader handles (DuckDB's own default). " +
              "`v2`: DuckDB's `PARQUET_VERSION v2` (DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY and BYTE_STREAM_SPLIT encodings, " +
              "data page v2) writes smaller archives: measured 0.63x (random timestamps) and 0.58x (time order) of `pg_dump -Fc` " +
              "against 0.68x and 0.71x with `v1` (1 M rows, bench/parquet-size.ts). The cost: every reader of the archives must support " +
              "Parquet v2 encodings (DuckDB, recent Spark and Trino do; old pandas/pyarrow and some engines do not): check yours before " +
              "choosing it. partkeeper's own verification and restore read both. Applies to archives written from then on.",
          ),
      })
      .optional()
      .describe("Where archives go. Required when any table archives."),
    // DESIGN rule 1.
    lockTimeoutMs: z
      .int()
      .min(10)
      .max(60_000)
      .default(2000)
      .describe(
        "`lock_timeout` of every DDL statement, ms. A queued ACCESS EXCLUSIVE request blocks every later query on " +
          "the table, reads included, so waits are kept short and retried instead.",
      ),
    ddlAttempts: z
      .int()
      .min(1)
      .max(50)
      .default(5)
      .describe(
        "Attempts per DDL step on lock timeout (55P03) or deadlock (40P01), with exponential backoff and full jitter, " +
          "before the step is reported failed.",
      ),
    maintain: z
      .strictObject({
        concurrency: z
          .int("must be a whole number of parents")
          .min(1, "must be at least 1 (1: one parent after another)")
          .max(MAX_MAINTAIN_CONCURRENCY, `must be at most ${MAX_MAINTAIN_CONCURRENCY}: each parent in flight holds two database connections`)
          .default(DEFAULT_MAINTAIN_CONCURRENCY)
          .describe(
            "Parents the `maintain` job works on at once, each on its own connections and under its own advisory lock, with the same " +
              "lock_timeout and retries; the summary lists parents in config order whatever the order they finish in. The pool opens up to " +
              "two connections per parent in flight. `archive` and the `lifecycle` run go one parent at a time. Measured in docs/figures.md.",
          ),
      })
      .default({ concurrency: DEFAULT_MAINTAIN_CONCURRENCY })
      .describe("How the `maintain` job goes over parents."),
    tables: z.array(tablePolicy).min(1, "must list at least one table").describe("One policy per partitioned parent table."),
    stats: stats.describe("What the `refresh-stats` job refreshes and analyzes (docs/stats.md)."),
    migrations: z
      .array(migrationSpec)
      .default([])
      .describe("Batched online migrations, advanced by `partkeeper migrate` and the scheduled `migrate` job (docs/migrate.md)."),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.tables.forEach((t, i) => {
      // A table that failed its own validation has no `parent`: only its own issues are reported.
      if (!t.parent) return;
      const key = JSON.stringify([t.parent.schema, t.parent.name]);
      if (seen.has(key)) ctx.addIssue({ code: "custom", path: ["tables", i, "table"], message: "is listed twice" });
      seen.add(key);
    });
    const ids = new Set<string>();
    c.migrations.forEach((m, i) => {
      if (!m.table) return;
      if (ids.has(m.id)) ctx.addIssue({ code: "custom", path: ["migrations", i, "id"], message: "is used twice" });
      ids.add(m.id);
      if (m.kind !== "partition-table") return;
      const policy = c.tables.find((t) => t.parent && t.parent.schema === m.table.schema && t.parent.name === m.table.name);
      if (!policy) {
        ctx.addIssue({
          code: "custom",
          path: ["migrations", i, "table"],
          message: `has no policy in tables: add { "schema": ${JSON.stringify(m.table.schema)}, "table": ${JSON.stringify(m.table.name)}, "strategy": ... } so partkeeper knows how to partition it`,
        });
      }
    });
  });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type TablePolicy = Config["tables"][number];
export type StatsConfig = Config["stats"];
export type MaterializedViewPolicy = StatsConfig["materializedViews"][number];
export type RangeTimePolicy = Extract<TablePolicy, { strategy: "range-time" }>;
export type RangeIntegerPolicy = Extract<TablePolicy, { strategy: "range-integer" }>;
export type ListPolicy = Extract<TablePolicy, { strategy: "list" }>;
export type HashPolicy = Extract<TablePolicy, { strategy: "hash" }>;
export type MigrationSpec = Config["migrations"][number];
export type PartitionTableSpec = Extract<MigrationSpec, { kind: "partition-table" }>;
export type TransformSpec = Extract<MigrationSpec, { kind: "transform" }>;
export type MoveSpec = Extract<MigrationSpec, { kind: "move" }>;
