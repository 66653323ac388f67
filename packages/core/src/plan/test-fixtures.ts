/** Builders for planner unit tests (no database): policies through the real zod schema, catalog objects by hand. */
import type { CatalogSnapshot, ParentInfo, PartitionBounds, PartitionInfo } from "../catalog/types.ts";
import type { ArchiveRecord, ArchiveState } from "../records/archives.ts";
import { configSchema, DEFAULT_MAINTAIN_CONCURRENCY, STATS_DEFAULT, type Config, type ConfigInput, type TablePolicy } from "../config/schema.ts";
import { qualifiedName, type QualifiedName } from "../identifier.ts";
import type { Action } from "./actions.ts";
import { planAll, type PlanWhich } from "./plan-all.ts";

type TableInput = ConfigInput["tables"][number];

/** A parsed table policy (defaults applied, as the config loader produces it). */
export function policy(input: TableInput): TablePolicy {
  return configSchema.parse({ tables: [input] }).tables[0]!;
}

function literal(value: string): string {
  return /^(MINVALUE|MAXVALUE)$/.test(value) ? value : `'${value.replaceAll("'", "''")}'`;
}

export function boundExpression(bounds: PartitionBounds): string {
  switch (bounds.kind) {
    case "range":
      return `FOR VALUES FROM (${literal(bounds.from)}) TO (${literal(bounds.to)})`;
    case "list":
      return `FOR VALUES IN (${bounds.values.map((v) => (v === null ? "NULL" : literal(v))).join(", ")})`;
    case "hash":
      return `FOR VALUES WITH (modulus ${bounds.modulus}, remainder ${bounds.remainder})`;
    case "default":
      return "DEFAULT";
  }
}

export function partition(
  name: string,
  bounds: PartitionBounds,
  extra: Partial<Pick<PartitionInfo, "isPartitioned" | "detachPending">> & { schema?: string } = {},
): PartitionInfo {
  return {
    name: qualifiedName(extra.schema ?? "public", name),
    boundExpression: boundExpression(bounds),
    bounds,
    rowEstimate: -1,
    bytes: 8192,
    detachPending: extra.detachPending ?? false,
    isPartitioned: extra.isPartitioned ?? false,
  };
}

export function range(name: string, from: string, to: string, extra: Parameters<typeof partition>[2] = {}): PartitionInfo {
  return partition(name, { kind: "range", from, to }, extra);
}

export function defaultPartition(name: string, schema = "public"): PartitionInfo {
  return partition(name, { kind: "default" }, { schema });
}

export interface ParentOptions {
  schema?: string;
  name?: string;
  method?: ParentInfo["method"];
  keyType?: string;
  keyColumns?: ParentInfo["keyColumns"];
  keyHasExpression?: boolean;
  partitions?: ReadonlyArray<PartitionInfo>;
  maxKey?: string | null;
}

export function parent(options: ParentOptions = {}): ParentInfo {
  const keyColumns = options.keyColumns ?? [{ name: "createdAt", type: options.keyType ?? "timestamp with time zone" }];
  return {
    parent: qualifiedName(options.schema ?? "public", options.name ?? "events"),
    method: options.method ?? "range",
    keyColumns,
    keyHasExpression: options.keyHasExpression ?? false,
    columns: [{ name: "id", type: "bigint" }, ...keyColumns],
    partitions: options.partitions ?? [],
    maxKey: options.maxKey ?? null,
  };
}

export function archiveRecord(
  id: number,
  parentName: QualifiedName,
  partitionName: string,
  state: ArchiveState,
  bounds: PartitionBounds,
): ArchiveRecord {
  return {
    id,
    parent: parentName,
    partition: qualifiedName(parentName.schema, partitionName),
    boundExpression: boundExpression(bounds),
    state,
  };
}

/** Compact view of create actions: `name from..to reason`. */
export function describeCreates(actions: ReadonlyArray<{ kind: string }>): string[] {
  return actions.map((a) => {
    const action = a as unknown as { kind: string; partition: QualifiedName; bounds?: PartitionBounds; reason?: string };
    if (action.kind !== "create-partition") return `${action.kind} ${action.partition.name}`;
    const b = action.bounds!;
    const bounds =
      b.kind === "range" ? `${b.from}..${b.to}` : b.kind === "list" ? `IN ${b.values.join(",")}` : b.kind === "hash" ? `r${b.remainder}/${b.modulus}` : "";
    return `${action.partition.name} ${bounds} ${action.reason}`;
  });
}

export const at = (iso: string): Date => new Date(iso);

/**
 * The `part` (future or expired) planAll plans for `policy`'s one parent at `now` (no unfinished
 * archives), or that parent's error, thrown: for tests of what the planner refuses. planAll runs
 * checkManageable once per parent; planFuturePartitions and planExpiredPartitions take a checked parent.
 */
export function planChecked(policy: TablePolicy, parentInfo: ParentInfo, now: Date, part: "future" | "expired"): ReadonlyArray<Action> {
  const config: Config = { lockTimeoutMs: 2000, ddlAttempts: 5, maintain: { concurrency: DEFAULT_MAINTAIN_CONCURRENCY }, tables: [policy], migrations: [], stats: STATS_DEFAULT };
  const snapshot: CatalogSnapshot = { parents: [parentInfo], missing: [], notPartitioned: [] };
  const which: PlanWhich = { future: part === "future", expired: part === "expired" };
  const [plan] = planAll(config, snapshot, { unfinishedArchives: [], finalizedMigrations: new Set() }, now, which);
  if (plan!.error) throw plan!.error;
  return plan!.actions;
}
