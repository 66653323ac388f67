import { displayName, type QualifiedName } from "../identifier.ts";
import { rows } from "../run/format-summary.ts";
import type { Strategy } from "../config/schema.ts";
import type { MaterializedViewHealth, ParentHealth, PartitionHealth } from "./health-types.ts";

/** How a value should catch the eye: `warn` needs a look soon, `bad` needs one now. */
export type FactLevel = "ok" | "warn" | "bad";

/**
 * One health value as people read it, shared by `partkeeper status` (`label value`) and the HTML report
 * (a table row whose value cell carries `data-metric="<metric>"`).
 */
export interface HealthFact {
  /** Stable key for tests and styling: the HealthReport field, e.g. `defaultPartitionRows`, `lastSuccess.maintain`. */
  readonly metric: string;
  readonly label: string;
  readonly value: string;
  readonly level: FactLevel;
}

const fact = (metric: string, label: string, value: string, level: FactLevel = "ok"): HealthFact => ({ metric, label, value, level });

/** A duration for people, whole units rounded down: `45 s`, `12 min`, `5 h`, `3 d` (a unit from 1.5 of it). */
export function formatAge(seconds: number): string {
  if (seconds < 90) return `${Math.max(0, Math.floor(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86_400)} d`;
}

/**
 * An ISO-8601 UTC instant for people: `2027-03-01` at midnight UTC (partition bounds usually are), else
 * `2027-03-01 12:30 UTC`. Anything that is not an instant (an open bound, `-infinity`) is returned as it is.
 */
export function formatInstant(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const [date = iso, time = ""] = new Date(ms).toISOString().split("T");
  return time.startsWith("00:00:00.000") ? date : `${date} ${time.slice(0, 5)} UTC`;
}

function ago(iso: string | null, at: string): string {
  return iso === null ? "never" : `${formatAge((Date.parse(at) - Date.parse(iso)) / 1000)} ago`;
}

/** A range bound for people: range-time bounds (ISO-8601 UTC) as formatInstant gives them, others as Postgres prints them. */
export function formatBound(strategy: Strategy, bound: string): string {
  return strategy === "range-time" ? formatInstant(bound) : bound;
}

/** A partition's bounds for people: `2026-05-01 → 2026-06-01` for a range, else Postgres' text (`FOR VALUES IN ('eu')`, `DEFAULT`). */
export function formatBounds(strategy: Strategy, x: PartitionHealth): string {
  return x.lower === null || x.upper === null ? x.bounds : `${formatBound(strategy, x.lower)} → ${formatBound(strategy, x.upper)}`;
}

/** A partition's name relative to its parent: the bare name in the parent's schema, else `schema.name`. */
export function partitionLabel(partition: QualifiedName, parent: QualifiedName): string {
  return partition.schema === parent.schema ? partition.name : displayName(partition);
}

/**
 * The health values of a parent that can be managed (ParentHealth.problem is null), in reading order;
 * values that do not apply (partitions ahead of a list parent, rows of a default partition that does
 * not exist) are left out. Ages are relative to the report's `at` (ISO-8601 UTC).
 */
export function parentFacts(p: ParentHealth, at: string): ReadonlyArray<HealthFact> {
  const facts = [fact("partitions", "partitions", rows(p.partitions))];
  if (p.partitionsAhead !== null) {
    const until = p.aheadUntil === null ? "" : ` until ${formatInstant(p.aheadUntil)}`;
    facts.push(fact("partitionsAhead", "ahead", `${p.partitionsAhead}${until}`, p.partitionsAhead === 0 ? "warn" : "ok"));
  }
  if (p.defaultPartitionRows !== null) {
    facts.push(fact("defaultPartitionRows", "default-partition rows", rows(p.defaultPartitionRows), p.defaultPartitionRows > 0 ? "warn" : "ok"));
  }
  const oldest = p.oldestExpiring === null ? "" : ` (oldest ${partitionLabel(p.oldestExpiring, p.parent)})`;
  facts.push(fact("archiveBacklog", "archive backlog", `${p.archiveBacklog}${oldest}`, p.archiveBacklog > 0 ? "warn" : "ok"));
  for (const [job, last] of Object.entries(p.lastSuccess)) facts.push(fact(`lastSuccess.${job}`, `last ${job}`, ago(last, at)));
  facts.push(fact("failedRuns24h", "failed runs (24 h)", String(p.failedRuns24h), p.failedRuns24h > 0 ? "bad" : "ok"));
  return facts;
}

/** A materialized view's values: how long ago its last successful refresh was, and how its last attempt went. */
export function viewFacts(v: MaterializedViewHealth): ReadonlyArray<HealthFact> {
  const refreshed = fact("ageSeconds", "last refresh", v.ageSeconds === null ? "never" : `${formatAge(v.ageSeconds)} ago`, v.lastRefresh === null ? "warn" : "ok");
  if (v.lastStatus === null) return [refreshed, fact("lastStatus", "last attempt", "never")];
  const took = v.lastDurationMs === null ? "" : ` in ${(v.lastDurationMs / 1000).toFixed(1)} s`;
  const why = v.lastMessage === null ? "" : `: ${v.lastMessage}`;
  const level = v.lastStatus === "ok" ? "ok" : v.lastStatus === "failed" ? "bad" : "warn";
  return [refreshed, fact("lastStatus", "last attempt", `${v.lastStatus}${took}${why}`, level)];
}
