// Regenerates packages/core/partkeeper.schema.json from the zod schema (npm run schema).
import { writeFile } from "node:fs/promises";
import { configJsonSchema } from "../src/config/json-schema.ts";

await writeFile(new URL("../partkeeper.schema.json", import.meta.url), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
