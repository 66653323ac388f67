import { IANAZone } from "luxon";
import { z } from "zod";
import { MAX_IDENTIFIER_BYTES } from "../identifier.ts";
import { parseArchiveLocation } from "../store/archive-location.ts";
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

const archivePolicy = z.strictObject({
  /** Export expired partitions to Parquet before dropping them. Default true. */
  enabled: z.boolean().default(true),
  /** Key prefix under the archive location for this parent; default `<schema>/<table>`. */
  prefix: z.string().min(1).optional(),
});

/** Fields every strategy shares. */
const tableBase = {
  /** Schema of the parent table. Default `public`. */
  schema: identifier.default("public"),
  /** Name of the parent (partitioned) table, exactly as in Postgres (case and unicode kept). */
  table: identifier,
  /** Keep a default partition so out-of-range rows are caught instead of failing inserts. */
  defaultPartition: z.boolean().default(true),
};

const retentionFields = {
  /** Detach expired partitions and keep them as plain tables instead of dropping them (pg_partman `retention_keep_table`). */
  retentionKeepTable: z.boolean().default(false),
  archive: archivePolicy.default({ enabled: true }),
};

const rangeTime = z.strictObject({
  ...tableBase,
  ...retentionFields,
  strategy: z.literal("range-time"),
  interval: z.enum(INTERVALS),
  /** Partitions kept ready ahead of the current one, counted from now() in `timeZone` (DESIGN rule 3). */
  premake: z.int().min(0, "must be 0 or more").max(1000).default(4),
  /** IANA zone in which interval boundaries fall (midnight, month start). Default UTC. */
  timeZone: z
    .string()
    .default("UTC")
    .refine((zone) => IANAZone.isValidZone(zone), { message: "is not an IANA time zone such as Europe/Berlin" }),
  /** Age after which a partition expires: its upper bound is older than now minus retention. */
  retention: calendarDuration.optional(),
});

const rangeInteger = z.strictObject({
  ...tableBase,
  ...retentionFields,
  strategy: z.literal("range-integer"),
  /** Width of one partition in key values. */
  step: z.int().min(1, "must be 1 or more"),
  /** Partitions kept ready above the one holding the current maximum key. */
  premake: z.int().min(0, "must be 0 or more").max(1000).default(4),
  /** A partition expires when its upper bound is at or below max(key) - retention (key values). */
  retention: z.int().min(1, "must be 1 or more").optional(),
});

const listValue = z.union([z.string(), z.int()]);

const list = z.strictObject({
  ...tableBase,
  strategy: z.literal("list"),
  /** Values that must each have a partition; a missing one gets `<table>_p_<value>`. */
  values: z.array(listValue).default([]),
});

const hash = z.strictObject({
  ...tableBase,
  defaultPartition: z.literal(false, "hash-partitioned tables cannot have a default partition").default(false),
  strategy: z.literal("hash"),
  /** Number of hash partitions; every remainder 0..modulus-1 gets one. */
  modulus: z.int().min(1, "must be 1 or more").max(1024),
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
  });

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    /** Where archives go: `s3://bucket/prefix`. Required when any table archives. */
    archive: z
      .strictObject({
        location: z.string().superRefine((location, ctx) => {
          try {
            parseArchiveLocation(location);
          } catch (error) {
            ctx.addIssue({ code: "custom", message: (error as Error).message });
          }
        }),
      })
      .optional(),
    /** `lock_timeout` for every DDL statement, ms (DESIGN rule 1). Default 2000. */
    lockTimeoutMs: z.int().min(10).max(60_000).default(2000),
    /** Attempts per DDL statement before giving up on lock timeouts. Default 5. */
    ddlAttempts: z.int().min(1).max(50).default(5),
    tables: z.array(tablePolicy).min(1, "must list at least one table"),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.tables.forEach((t, i) => {
      const key = JSON.stringify([t.schema, t.table]);
      if (seen.has(key)) ctx.addIssue({ code: "custom", path: ["tables", i, "table"], message: "is listed twice" });
      seen.add(key);
    });
  });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type TablePolicy = Config["tables"][number];
export type RangeTimePolicy = Extract<TablePolicy, { strategy: "range-time" }>;
export type RangeIntegerPolicy = Extract<TablePolicy, { strategy: "range-integer" }>;
export type ListPolicy = Extract<TablePolicy, { strategy: "list" }>;
export type HashPolicy = Extract<TablePolicy, { strategy: "hash" }>;
