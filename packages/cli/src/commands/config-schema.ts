import { Command } from "commander";
import { configJsonSchema } from "@partkeeper/core";
import { action, EXIT } from "../command-base.ts";

/** `partkeeper config-schema`: prints the JSON Schema of partkeeper.config.json. */
export function configSchemaCommand(): Command {
  return new Command("config-schema")
    .description("Print the JSON Schema of partkeeper.config.json (for editor completion).")
    .action(
      action(async () => {
        process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
        return EXIT.ok;
      }),
    );
}
