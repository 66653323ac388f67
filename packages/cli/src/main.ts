import { Command } from "commander";
import { configSchemaCommand } from "./commands/config-schema.ts";
import { demoCommand } from "./commands/demo.ts";
import { restoreCommand } from "./commands/restore.ts";
import { statusCommand } from "./commands/status.ts";
import { planCommand, runCommand } from "./commands/run.ts";

const program = new Command("partkeeper")
  .description("Lifecycle of partitioned PostgreSQL tables: future partitions, Parquet archives on S3, restore.")
  .showHelpAfterError()
  .addCommand(planCommand())
  .addCommand(runCommand())
  .addCommand(restoreCommand())
  .addCommand(statusCommand())
  .addCommand(demoCommand())
  .addCommand(configSchemaCommand());

await program.parseAsync(process.argv);
