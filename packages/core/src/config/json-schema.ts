import { z } from "zod";
import { configSchema } from "./schema.ts";

/** JSON Schema (draft 2020-12) of partkeeper.config.json, for editor completion; generated from the zod schema. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}
