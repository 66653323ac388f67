import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { configDocTables, renderConfigDoc } from "./config-docs.ts";

describe("docs/config.md", () => {
  it("has the field tables of the zod schema (run `npm run schema` after changing it)", async () => {
    const committed = await readFile(new URL("../../../../docs/config.md", import.meta.url), "utf8");
    expect(renderConfigDoc(committed)).toBe(committed);
  });
});

describe("config field tables", () => {
  const tables = configDocTables();

  it("merge the fields every strategy has, saying where one differs", () => {
    expect(tables.get("every-table")).toContain("| `defaultPartition` | boolean (`false` for `hash`) | `true` (`false` for `hash`) |");
    expect(tables.get("every-table")).toContain("| `strategy` | `range-time`, `range-integer`, `list` or `hash` | required |");
    expect(tables.get("range-integer")).toContain("| `retentionKeepTable`, `archive` |  |  | As under `range-time`. |");
  });

  it("refuse a field without a description and a doc without a block for every section", () => {
    expect(() => configDocTables({ properties: { x: { type: "string" } } })).toThrow(/config field x has no description/);
    expect(() => renderConfigDoc("<!-- generated:top-level -->\n<!-- /generated:top-level -->\n", tables)).toThrow(/block for: every-table/);
    expect(() => renderConfigDoc("<!-- generated:nope -->\n<!-- /generated:nope -->\n", tables)).toThrow(/generated:nope/);
  });
});
