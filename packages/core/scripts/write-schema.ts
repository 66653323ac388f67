// Regenerates packages/core/partkeeper.schema.json and the field tables of docs/config.md from the
// zod schema (npm run schema).
import { readFile, writeFile } from "node:fs/promises";
import { renderConfigDoc } from "../src/config/config-docs.ts";
import { configJsonSchema } from "../src/config/json-schema.ts";

await writeFile(new URL("../partkeeper.schema.json", import.meta.url), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);

const configDoc = new URL("../../../docs/config.md", import.meta.url);
await writeFile(configDoc, renderConfigDoc(await readFile(configDoc, "utf8")));
