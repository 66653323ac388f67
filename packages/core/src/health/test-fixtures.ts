/** Builders of HealthReport values for the renderers' unit tests and the HTML report's browser test (no database). */
import { qualifiedName, type QualifiedName } from "../identifier.ts";
import type { HealthReport, MaterializedViewHealth, ParentHealth, PartitionHealth, PartitionState } from "./health-types.ts";

const MONTH_BOUND = (year: number, month: number) => new Date(Date.UTC(year, month - 1, 1)).toISOString().replace(".000Z", "Z");

/**
 * Monthly range-time partitions of `parent`, one per state in order, the first holding `firstMonth` (`2026-01`):
 * named `<parent>_pYYYY_MM`, rows 1,000 x (index + 1), bytes 64 kB x (index + 1) (archived: a tenth, as Parquet).
 */
export function monthlyPartitions(parent: QualifiedName, firstMonth: string, states: ReadonlyArray<PartitionState>): PartitionHealth[] {
  const [year, month] = firstMonth.split("-").map(Number) as [number, number];
  return states.map((state, i) => {
    const lower = MONTH_BOUND(year, month + i);
    const upper = MONTH_BOUND(year, month + i + 1);
    const bytes = 65_536 * (i + 1);
    return {
      partition: qualifiedName(parent.schema, `${parent.name}_p${lower.slice(0, 4)}_${lower.slice(5, 7)}`),
      bounds: `FOR VALUES FROM ('${lower.slice(0, 10)} 00:00:00+00') TO ('${upper.slice(0, 10)} 00:00:00+00')`,
      lower,
      upper,
      state,
      rows: 1000 * (i + 1),
      bytes: state === "archived" ? Math.round(bytes / 10) : bytes,
      lastAnalyze: null,
      lastAutovacuum: null,
    };
  });
}

/** A partition without range bounds: the default partition, or a list/hash partition (state `live`). */
export function unrangedPartition(parent: QualifiedName, name: string, state: "default" | "live", rows: number): PartitionHealth {
  return {
    partition: qualifiedName(parent.schema, name),
    bounds: state === "default" ? "DEFAULT" : `FOR VALUES IN ('${name}')`,
    lower: null,
    upper: null,
    state,
    rows,
    bytes: 8192 + rows * 100,
    lastAnalyze: null,
    lastAutovacuum: null,
  };
}

/** A healthy parent's values with its partitions counted from `partitionList`; `overrides` win. */
export function parentHealth(parent: QualifiedName, partitionList: ReadonlyArray<PartitionHealth>, overrides: Partial<ParentHealth> = {}): ParentHealth {
  const ranged = partitionList.some((p) => p.lower !== null);
  const inState = (state: PartitionState) => partitionList.filter((p) => p.state === state);
  return {
    parent,
    strategy: ranged ? "range-time" : "list",
    problem: null,
    partitions: partitionList.filter((p) => p.state !== "archived").length,
    partitionsAhead: ranged ? inState("future").length : null,
    aheadUntil: ranged ? ([...inState("current"), ...inState("future")].at(-1)?.upper ?? null) : null,
    defaultPartitionRows: inState("default")[0]?.rows ?? null,
    oldestExpiring: inState("expiring")[0]?.partition ?? null,
    archiveBacklog: inState("expiring").length,
    lastSuccess: { maintain: "2026-11-21T11:00:00Z", archive: "2026-11-20T02:30:00Z", "refresh-stats": null },
    failedRuns24h: 0,
    partitionList,
    ...overrides,
  };
}

export const EVENTS = qualifiedName("public", "events");
/** A name that needs escaping everywhere: quotes, `<`, `&`, unicode. */
export const TRICKY = qualifiedName("Sales Ünïcode", `<b>"hej"&'x'</b>`);

/**
 * A report at 2026-11-21T12:00:00Z: public.events (3 archived, 1 expiring, 2 past, current, 4 future,
 * a default partition holding 12 rows), a list parent with a name to escape, a parent that does not
 * exist, and three materialized views (refreshed, failed, never).
 */
export function sampleReport(): HealthReport {
  const events = [
    ...monthlyPartitions(EVENTS, "2026-05", ["archived", "archived", "archived", "expiring", "past", "past", "current", "future", "future", "future", "future"]),
    unrangedPartition(EVENTS, "events_default", "default", 12),
  ];
  const tricky = [unrangedPartition(TRICKY, "eu", "live", 500), unrangedPartition(TRICKY, "us", "live", 700), unrangedPartition(TRICKY, `<i>&`, "default", 0)];
  const views: MaterializedViewHealth[] = [
    { view: qualifiedName("public", "daily_totals"), lastRefresh: "2026-11-21T10:00:00Z", ageSeconds: 7200, lastStatus: "ok", lastDurationMs: 1234, lastMessage: null },
    {
      view: qualifiedName("public", "<weekly>"),
      lastRefresh: "2026-11-18T12:00:00Z",
      ageSeconds: 259_200,
      lastStatus: "failed",
      lastDurationMs: 300,
      lastMessage: 'canceling statement due to lock timeout on "weekly"',
    },
    { view: qualifiedName("public", "monthly"), lastRefresh: null, ageSeconds: null, lastStatus: null, lastDurationMs: null, lastMessage: null },
  ];
  return {
    at: "2026-11-21T12:00:00Z",
    parents: [
      parentHealth(EVENTS, events, { failedRuns24h: 1 }),
      parentHealth(TRICKY, tricky),
      parentHealth(qualifiedName("public", "gone"), [], { strategy: "hash", problem: "does not exist", partitions: 0, archiveBacklog: 0 }),
    ],
    materializedViews: views,
  };
}
