import { displayName } from "../identifier.ts";
import { formatInstant, parentFacts, viewFacts, type FactLevel, type HealthFact } from "./health-facts.ts";
import { PARTITION_STATES, type HealthReport, type ParentHealth, type PartitionState } from "./health-types.ts";
import { STATE_STYLES } from "./state-styles.ts";

export interface FormatHealthOptions {
  /** ANSI colours (a terminal); false: plain text without a single escape code (pipes, files, NO_COLOR). */
  readonly color: boolean;
  /**
   * Columns a timeline line may take, indent included; default 72, also for 0 (what Node reports for a
   * pseudo-terminal without a size, e.g. script(1) in CI).
   */
  readonly width?: number;
}

/** What a timeline line starts with; counted in the width. */
const INDENT = "  ";
const LEVEL_ANSI = { ok: null, warn: "33", bad: "1;31" } as const satisfies Record<FactLevel, string | null>;

type Paint = (text: string, sgr: string | null) => string;

/** One cell of the timeline: a partition's glyph, or a run of equal states as `glyph×count`. */
interface Cell {
  readonly state: PartitionState;
  readonly text: string;
}

/**
 * The cells of one timeline, at most `columns` wide where compressing runs allows: the longest runs of equal
 * states become `glyph×count` first (they save the most columns), until the timeline fits. Every
 * partition stays counted; what still does not fit is wrapped by `timelineLines`, never cut.
 */
function timelineCells(states: ReadonlyArray<PartitionState>, columns: number): Cell[] {
  const runs: Array<{ state: PartitionState; count: number }> = [];
  for (const state of states) {
    const last = runs.at(-1);
    if (last?.state === state) last.count++;
    else runs.push({ state, count: 1 });
  }
  const grouped = (run: (typeof runs)[number]) => `${STATE_STYLES[run.state].glyph}×${run.count}`;
  const compressed = new Set<(typeof runs)[number]>();
  let total = states.length;
  for (const run of [...runs].sort((a, b) => b.count - a.count)) {
    const saved = run.count - grouped(run).length;
    // Runs come longest first, and a shorter run never saves more.
    if (total <= columns || saved <= 0) break;
    compressed.add(run);
    total -= saved;
  }
  return runs.flatMap((run) =>
    compressed.has(run) ? [{ state: run.state, text: grouped(run) }] : Array.from({ length: run.count }, () => ({ state: run.state, text: STATE_STYLES[run.state].glyph })),
  );
}

/** The cells laid out in lines of at most `columns`, a `glyph×count` group never split; each line one colour span per run. */
function timelineLines(cells: ReadonlyArray<Cell>, columns: number, paint: Paint): string[] {
  const lines: Cell[][] = [[]];
  let used = 0;
  for (const cell of cells) {
    if (used + cell.text.length > columns && used > 0) {
      lines.push([]);
      used = 0;
    }
    lines.at(-1)!.push(cell);
    used += cell.text.length;
  }
  return lines.map((line) => {
    let out = "";
    for (let i = 0; i < line.length; ) {
      let text = "";
      const state = line[i]!.state;
      for (; i < line.length && line[i]!.state === state; i++) text += line[i]!.text;
      out += paint(text, STATE_STYLES[state].ansi);
    }
    return INDENT + out;
  });
}

function factsText(facts: ReadonlyArray<HealthFact>, paint: Paint): string {
  return facts.map((f) => paint(`${f.label} ${f.value}`, LEVEL_ANSI[f.level])).join(", ");
}

function parentLines(p: ParentHealth, at: string, columns: number, paint: Paint): string[] {
  const name = `${paint(displayName(p.parent), "1")} (${p.strategy})`;
  if (p.problem !== null) return [`${name}: ${paint(`PROBLEM: ${p.problem}`, LEVEL_ANSI.bad)}`];
  const header = `${name}: ${factsText(parentFacts(p, at), paint)}`;
  if (p.partitionList.length === 0) return [header];
  return [header, ...timelineLines(timelineCells(p.partitionList.map((x) => x.state), columns), columns, paint)];
}

/**
 * `partkeeper status` as text: a first line with the report's time, then per parent a header line
 * (name, strategy, then the health values of health-facts.ts, or `PROBLEM: <why>`) and its timeline: one
 * cell per partition in the report's order (bound order, so archived partitions, the oldest, come first), a
 * distinct glyph per state (STATE_STYLES); long timelines compressed to `options.width` columns by runs (`░×40`: 40
 * future partitions in a row). Then a legend of the states shown, and the materialized views (age of the last
 * successful refresh, last attempt). Lines end with `\n`; ANSI colours only when `options.color`.
 */
export function formatHealth(report: HealthReport, options: FormatHealthOptions): string {
  const paint: Paint = (text, sgr) => (options.color && sgr !== null ? `\x1b[${sgr}m${text}\x1b[0m` : text);
  // A timeline needs room for at least a few cells, whatever the terminal says.
  const columns = Math.max(8, (options.width || 72) - INDENT.length);
  const lines = [`partkeeper status at ${formatInstant(report.at)}`];
  for (const p of report.parents) lines.push(...parentLines(p, report.at, columns, paint));
  const shown = new Set(report.parents.flatMap((p) => p.partitionList.map((x) => x.state)));
  if (shown.size > 0) {
    const keys = PARTITION_STATES.filter((s) => shown.has(s)).map((s) => `${paint(STATE_STYLES[s].glyph, STATE_STYLES[s].ansi)} ${s}`);
    lines.push(`legend: ${keys.join("  ")}  (x×N: N partitions in a row)`);
  }
  if (report.materializedViews.length > 0) {
    lines.push("materialized views:");
    for (const v of report.materializedViews) lines.push(`${INDENT}${displayName(v.view)}: ${factsText(viewFacts(v), paint)}`);
  }
  return `${lines.join("\n")}\n`;
}
