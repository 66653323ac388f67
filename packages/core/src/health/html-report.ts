import { displayName } from "../identifier.ts";
import { bytes as formatBytes, rows as formatRows } from "../run/format-summary.ts";
import { formatBounds, formatInstant, parentFacts, partitionLabel, viewFacts, type HealthFact } from "./health-facts.ts";
import { PARTITION_STATES, type HealthReport, type MaterializedViewHealth, type ParentHealth } from "./health-types.ts";
import { escapeHtml as esc } from "./html-escape.ts";
import { STATE_STYLES } from "./state-styles.ts";
import { timelineSvg } from "./timeline-svg.ts";

// System fonts and no external asset: the page is one file that opens offline, attached to a ticket or an email.
const STYLE = `
:root { color-scheme: light; --ink: #202124; --muted: #5f6368; --line: #dadce0; --warn: #b06000; --bad: #c5221f; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; background: #f6f7f9; color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1040px; margin: 0 auto; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 17px; margin: 0 0 12px; overflow-wrap: anywhere; }
.at { color: var(--muted); margin: 0 0 20px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 0 0 16px; }
.strategy { font-size: 12px; font-weight: 500; color: var(--muted); border: 1px solid var(--line); border-radius: 10px; padding: 1px 8px; margin-left: 8px; vertical-align: middle; }
.problem { color: var(--bad); font-weight: 600; margin: 0; }
svg.timeline { display: block; width: 100%; height: auto; margin: 0 0 6px; }
svg .axis { font-size: 12px; fill: var(--muted); }
svg .now { font-size: 12px; font-weight: 600; fill: ${STATE_STYLES.current.fill}; }
svg .baseline { stroke: var(--line); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; list-style: none; padding: 0; margin: 0 0 14px; color: var(--muted); font-size: 13px; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.columns { display: grid; grid-template-columns: minmax(240px, 330px) 1fr; gap: 8px 32px; align-items: start; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px 4px 0; border-bottom: 1px solid #eef0f2; vertical-align: top; overflow-wrap: anywhere; }
th { font-weight: 500; color: var(--muted); white-space: nowrap; }
table.facts th { width: 12em; }
table.partitions td:nth-child(2) { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.warn { color: var(--warn); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
details summary { cursor: pointer; color: var(--muted); margin-bottom: 6px; }
`;

function factRows(facts: ReadonlyArray<HealthFact>): string {
  return facts
    .map((f) => `<tr><th scope="row">${esc(f.label)}</th><td data-metric="${esc(f.metric)}" class="${f.level}">${esc(f.value)}</td></tr>`)
    .join("");
}

function legend(p: ParentHealth): string {
  const keys = PARTITION_STATES.flatMap((state) => {
    const count = p.partitionList.filter((x) => x.state === state).length;
    return count === 0 ? [] : [`<li><span class="swatch" style="background:${STATE_STYLES[state].fill}"></span>${state} ${count}</li>`];
  });
  return `<ul class="legend">${keys.join("")}</ul>`;
}

/** Partition tables up to this many rows are shown open. */
const OPEN_PARTITION_LIST = 24;

function partitionTable(p: ParentHealth): string {
  const head = "<tr><th>partition</th><th>state</th><th>bounds</th><th>rows</th><th>size</th></tr>";
  const body = p.partitionList.map((x) => {
    const swatch = `<span class="swatch" style="background:${STATE_STYLES[x.state].fill}"></span>`;
    const cells = [esc(partitionLabel(x.partition, p.parent)), `${swatch}${x.state}`, esc(formatBounds(p.strategy, x))];
    const numbers = [x.rows === null ? "—" : formatRows(x.rows), x.bytes === null ? "—" : formatBytes(x.bytes)];
    return `<tr>${cells.map((c) => `<td>${c}</td>`).join("")}${numbers.map((n) => `<td class="num">${n}</td>`).join("")}</tr>`;
  });
  // Open while it is short enough to read through; hundreds of partitions stay one click away.
  const open = p.partitionList.length <= OPEN_PARTITION_LIST ? " open" : "";
  return `<details${open}><summary>${p.partitionList.length} partitions</summary><table class="partitions">${head}${body.join("")}</table></details>`;
}

function parentSection(p: ParentHealth, at: string): string {
  const name = displayName(p.parent);
  const title = `<h2>${esc(name)}<span class="strategy">${p.strategy}</span></h2>`;
  const body =
    p.problem !== null
      ? `<p class="problem">PROBLEM: <span data-metric="problem">${esc(p.problem)}</span></p>`
      : `${timelineSvg(p)}${legend(p)}<div class="columns"><table class="facts">${factRows(parentFacts(p, at))}</table><div>${partitionTable(p)}</div></div>`;
  return `<section class="parent" data-parent="${esc(name)}">${title}${body}</section>`;
}

function viewsSection(views: ReadonlyArray<MaterializedViewHealth>): string {
  if (views.length === 0) return "";
  const rows = views.map((v) => {
    const cells = viewFacts(v).map((f) => `<td data-metric="${esc(f.metric)}" class="${f.level}">${esc(f.value)}</td>`);
    return `<tr data-view="${esc(displayName(v.view))}"><td>${esc(displayName(v.view))}</td>${cells.join("")}</tr>`;
  });
  return `<section class="views"><h2>Materialized views</h2><table><tr><th>view</th><th>last refresh</th><th>last attempt</th></tr>${rows.join("")}</table></section>`;
}

/**
 * The health report as one self-contained HTML page (inline CSS and SVG, no script, no external asset):
 * per parent a section `data-parent="schema.table"` with a timeline of its partitions by state and size
 * (timeline-svg.ts; rects with `data-state` and `data-partition`), a legend with the count per state, the
 * health values (cells with `data-metric`, as in health-facts.ts) and the partitions in a collapsed table;
 * a parent with a problem shows only it (`data-metric="problem"`). Then the materialized views (age of the
 * last successful refresh, last attempt). Every name and message is escaped (escapeHtml).
 */
export function renderHtmlReport(report: HealthReport): string {
  const at = formatInstant(report.at);
  const problems = report.parents.filter((p) => p.problem !== null).length;
  const summary = `${report.parents.length} parents${problems > 0 ? `, <span class="bad">${problems} with a problem</span>` : ""}`;
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>partkeeper health at ${esc(at)}</title><style>${STYLE}</style></head>`,
    `<body><main><h1>partkeeper health</h1><p class="at">at ${esc(at)} · ${summary}</p>`,
    ...report.parents.map((p) => parentSection(p, report.at)),
    viewsSection(report.materializedViews),
    "</main></body></html>",
    "",
  ].join("\n");
}
