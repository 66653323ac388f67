import { isDeepStrictEqual } from "node:util";
import { configJsonSchema } from "./json-schema.ts";

/**
 * The field tables of docs/config.md, rendered from the shipped JSON Schema (so from the zod
 * descriptions in schema.ts) into the blocks between `<!-- generated:NAME -->` and
 * `<!-- /generated:NAME -->`; the prose around them is hand-written. Sections: `top-level`,
 * `every-table` (fields all strategies have) and one per strategy (its other fields).
 */

interface JsonSchema {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
}

type Row = [field: string, type: string, defaultValue: string, description: string];

const code = (text: string) => `\`${text}\``;
const either = (items: string[]) => (items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`);

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return code(String(s.const));
  if (s.enum) return either(s.enum.map((v) => code(String(v))));
  if (s.anyOf) return either(s.anyOf.map(typeOf));
  if (s.type === "integer" || s.type === "number") {
    const min = s.minimum !== undefined && s.minimum > Number.MIN_SAFE_INTEGER ? s.minimum : undefined;
    const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
    if (min !== undefined && max !== undefined) return `${s.type}, ${min} to ${max}`;
    if (min !== undefined) return `${s.type}, at least ${min}`;
    return max === undefined ? s.type : `${s.type}, at most ${max}`;
  }
  if (s.type === "array") {
    const items = s.items?.oneOf ? "objects" : s.items ? typeOf(s.items) : undefined;
    return `array${items ? ` of ${items}` : ""}${s.minItems ? `, at least ${s.minItems}` : ""}`;
  }
  return s.type ?? "any";
}

function defaultOf(s: JsonSchema, required: boolean): string {
  if (required) return "required";
  if (s.default === undefined) return "optional";
  return code(typeof s.default === "string" ? s.default : JSON.stringify(s.default));
}

/** One row per property of `s`, then one per property of each nested object (`archive.location`). */
function rows(s: JsonSchema, prefix = ""): Row[] {
  return Object.entries(s.properties ?? {}).flatMap(([name, field]) => {
    const path = `${prefix}${name}`;
    if (!field.description) throw new Error(`config field ${path} has no description: add .describe(...) in schema.ts`);
    const row: Row = [code(path), typeOf(field), defaultOf(field, s.required?.includes(name) ?? false), field.description];
    return [row, ...(field.properties ? rows(field, `${path}.`) : [])];
  });
}

/** A shared field's column: the first strategy's value, with how the others differ. */
function merged(values: string[], strategies: string[], differs: (value: string, who: string) => string): string {
  const [first] = values;
  const others = new Map<string, string[]>();
  values.forEach((v, i) => v !== first && others.set(v, [...(others.get(v) ?? []), code(strategies[i]!)]));
  return [first, ...[...others].map(([v, who]) => differs(v, either(who)))].join(" ");
}

function table(rowList: Row[]): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  return ["| field | type | default | description |", "|---|---|---|---|", ...rowList.map((r) => `| ${r.map(cell).join(" | ")} |`)].join("\n");
}

/** The generated tables by section name, from the JSON Schema of the config. */
export function configDocTables(schema: JsonSchema = configJsonSchema()): Map<string, string> {
  const variants = schema.properties?.tables?.items?.oneOf ?? [];
  const strategies = variants.map((v) => String(v.properties?.strategy?.const));
  const names = (v: JsonSchema) => Object.keys(v.properties ?? {});
  const shared = names(variants[0] ?? {}).filter((name) => variants.every((v) => v.properties?.[name]));
  const tables = new Map([["top-level", table(rows(schema))]]);

  const sharedRows = shared.flatMap((name) => {
    const fields = variants.map((v) => v.properties![name]!);
    const perVariant = variants.map((v, i) => rows({ properties: { [name]: fields[i]! }, required: v.required }));
    const consts = fields.map((f) => f.const);
    return perVariant[0]!.map((row, r): Row => {
      const column = (c: number) => perVariant.map((variantRows) => variantRows[r]?.[c] ?? "");
      const inParens = (v: string, who: string) => `(${v} for ${who})`;
      return [
        row[0],
        r === 0 && consts.every((c) => c !== undefined) ? either(consts.map((c) => code(String(c)))) : merged(column(1), strategies, inParens),
        merged(column(2), strategies, inParens),
        merged(column(3), strategies, (v, who) => `For ${who}: ${v}`),
      ];
    });
  });
  tables.set("every-table", table(sharedRows));

  // A strategy's fields that some other strategies have too (the retention ones) come last; the ones
  // an earlier strategy has are listed by name only, "as under" that one.
  variants.forEach((variant, i) => {
    const sameIn = (name: string, v: JsonSchema) => v !== variant && isDeepStrictEqual(v.properties?.[name], variant.properties![name]);
    const own = names(variant)
      .filter((name) => !shared.includes(name))
      .sort((a, b) => Number(variants.some((v) => sameIn(a, v))) - Number(variants.some((v) => sameIn(b, v))));
    const asUnder = new Map<string, string[]>();
    const fresh = own.filter((name) => {
      const earlier = variants.findIndex((v, j) => j < i && sameIn(name, v));
      if (earlier < 0) return true;
      asUnder.set(strategies[earlier]!, [...(asUnder.get(strategies[earlier]!) ?? []), code(name)]);
      return false;
    });
    const freshRows = rows({ properties: Object.fromEntries(fresh.map((name) => [name, variant.properties![name]!])), required: variant.required });
    const asUnderRows = [...asUnder].map(([strategy, fields]): Row => [fields.join(", "), "", "", `As under ${code(strategy)}.`]);
    tables.set(strategies[i]!, table([...freshRows, ...asUnderRows]));
  });
  const migrationItems = schema.properties?.migrations?.items;
  for (const kind of migrationItems?.oneOf ?? migrationItems?.anyOf ?? []) {
    tables.set(`migration-${String(kind.properties?.kind?.const)}`, table(rows(kind)));
  }
  return tables;
}

const BLOCK = /(<!-- generated:([\w-]+) -->\n)[\s\S]*?(<!-- \/generated:\2 -->)/g;

/** `markdown` with every generated block replaced by its table; each table must have exactly one block. */
export function renderConfigDoc(markdown: string, tables: Map<string, string> = configDocTables()): string {
  const placed: string[] = [];
  const rendered = markdown.replace(BLOCK, (_, open: string, name: string, close: string) => {
    const body = tables.get(name);
    if (body === undefined) throw new Error(`docs/config.md has a block <!-- generated:${name} --> for no section of the schema`);
    placed.push(name);
    return `${open}\n${body}\n\n${close}`;
  });
  const missing = [...tables.keys()].filter((name) => placed.filter((p) => p === name).length !== 1);
  if (missing.length > 0) {
    throw new Error(`docs/config.md needs exactly one <!-- generated:NAME --> ... <!-- /generated:NAME --> block for: ${missing.join(", ")}`);
  }
  return rendered;
}
