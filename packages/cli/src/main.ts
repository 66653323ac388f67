import { Command, CommanderError } from "commander";
import { EXIT } from "./command-base.ts";
import { configSchemaCommand } from "./commands/config-schema.ts";
import { demoCommand } from "./commands/demo.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { reportCommand } from "./commands/report.ts";
import { restoreCommand } from "./commands/restore.ts";
import { statusCommand } from "./commands/status.ts";
import { planCommand, runCommand } from "./commands/run.ts";

const program = new Command("partkeeper")
  .description("Lifecycle of partitioned PostgreSQL tables: future partitions, Parquet archives on S3, restore, online migrations.")
  .showHelpAfterError()
  .addCommand(planCommand())
  .addCommand(runCommand())
  .addCommand(restoreCommand())
  .addCommand(statusCommand())
  .addCommand(reportCommand())
  .addCommand(migrateCommand())
  .addCommand(demoCommand())
  .addCommand(configSchemaCommand());

// Usage errors exit 2 like every other bad input (commander's default is 1); help exits 0.
// Every level: `migrate swap` without --id is a usage error too.
const everyCommand = (command: Command): Command[] => [command, ...command.commands.flatMap(everyCommand)];
for (const command of everyCommand(program)) command.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
}
