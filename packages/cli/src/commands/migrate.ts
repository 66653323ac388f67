import { Presets, SingleBar } from "cli-progress";
import { Command } from "commander";
import {
  formatMigrateSummary,
  formatMigrationStatus,
  formatProgress,
  MIGRATE_ACTIONS,
  readMigrationStatus,
  runMigrations,
  type MigrateAction,
  type MigrationProgress,
} from "@partkeeper/core";
import { action, EXIT, withJobContext, type ConnectionOptions } from "../command-base.ts";
import { connectionOptions } from "./connection-options.ts";

interface MigrateCommandOptions extends ConnectionOptions {
  id?: string;
  json?: boolean;
  force?: boolean;
}

/** What each `migrate <action>` does, for its help (every engine action has a command). */
const DESCRIPTIONS = {
  run: "Advance every migration (or --id) as far as it goes: prepare, capture, backfill, verify, swap when swap is auto, finalize after the grace period. Safe to interrupt and run again.",
  verify: "Compare the copy with the table again, key range by key range.",
  swap: "Put the partitioned copy in the table's place (verifying first unless verified), in one short locked transaction.",
  rollback: "Swap back to the original table; the partitioned copy is kept current, so `migrate swap` can swap again.",
  finalize: "Drop the retired table and the capture once the grace period (finalizeAfter) is over, or before it with --force.",
  pause: "Leave the migration alone in scheduled runs; capture keeps recording changes.",
  resume: "Let scheduled runs advance the migration again.",
} as const satisfies Record<MigrateAction, string>;

const EXAMPLES = `
Examples:
  DATABASE_URL=postgres://... partkeeper migrate plan --config partkeeper.config.json
  partkeeper migrate run -c partkeeper.config.json
  partkeeper migrate status -c partkeeper.config.json
  partkeeper migrate swap -c partkeeper.config.json --id events-by-month
  partkeeper migrate rollback -c partkeeper.config.json --id events-by-month

Exit codes: 0 done, 1 a migration failed, 2 bad input (e.g. an --id not in the config). See docs/migrate.md.`;

/** `partkeeper migrate plan|run|status|verify|swap|rollback|finalize|pause|resume`: batched online migrations. */
export function migrateCommand(): Command {
  const group = new Command("migrate")
    .description("Batched online migrations of the config's `migrations` (e.g. turn a live table into a partitioned one).")
    .addHelpText("after", EXAMPLES)
    .addCommand(subcommand("plan", "Print the steps `migrate run` would take next, with their SQL, without changing anything.", false));
  for (const name of MIGRATE_ACTIONS) {
    group.addCommand(subcommand(name, DESCRIPTIONS[name], name !== "run"));
    if (name === "run") group.addCommand(statusCommand());
  }
  return group;
}

function subcommand(name: "plan" | MigrateAction, description: string, idRequired: boolean): Command {
  const command = new Command(name).description(description).option("--json", "print the summary as JSON");
  if (idRequired) command.requiredOption("--id <id>", "the migration's id in the config");
  else command.option("--id <id>", "only this migration (default: every migration in the config)");
  if (name === "finalize") command.option("--force", "finalize before the grace period is over (rollback is impossible afterwards)");
  const act = name === "plan" ? "run" : name;
  return connectionOptions(command, { parent: null }).action(action((options: MigrateCommandOptions) => execute(act, name === "plan", options)));
}

function statusCommand(): Command {
  return connectionOptions(
    new Command("status")
      .description("Show each migration's state, backfill progress, watermark, pending captured changes and last error. Changes nothing.")
      .option("--id <id>", "only this migration")
      .option("--json", "print the status as JSON"),
    { parent: null },
  ).action(
    action((options: MigrateCommandOptions) =>
      withJobContext(options, async (ctx) => {
        const list = await readMigrationStatus(ctx, options.id);
        process.stdout.write(`${options.json ? JSON.stringify(list, null, 2) : formatMigrationStatus(list)}\n`);
        return EXIT.ok;
      }),
    ),
  );
}

async function execute(act: MigrateAction, dryRun: boolean, options: MigrateCommandOptions): Promise<number> {
  return withJobContext(options, async (ctx) => {
    const bar = progressBar(Boolean(options.json) || dryRun);
    const summary = await runMigrations(ctx, { action: act, id: options.id, dryRun, force: options.force, onProgress: bar?.update }).finally(() => bar?.stop());
    process.stdout.write(`${options.json ? JSON.stringify(summary, null, 2) : formatMigrateSummary(summary)}\n`);
    const failed = summary.migrations.filter((m) => m.status === "failed");
    if (failed.length === 0) return EXIT.ok;
    process.stderr.write(`partkeeper: ${failed.length} of ${summary.migrations.length} migration(s) failed; first: ${failed[0]!.id}: ${failed[0]!.message.split("\n")[0]}\n`);
    return EXIT.failed;
  });
}

/**
 * A progress bar on stderr (rows, rows/s, ETA), one per migration, fed by the engine's onProgress
 * after each backfill batch; without a row estimate (a table never analyzed), the counts alone.
 * Null when stderr is not a terminal or `quiet` (--json, plan): output that is piped or parsed stays plain.
 */
function progressBar(quiet: boolean): { update: (p: MigrationProgress) => void; stop: () => void } | null {
  if (quiet || !process.stderr.isTTY) return null;
  let current: { id: string; bar: SingleBar } | null = null;
  return {
    update(p) {
      const total = Math.max(p.rowsEstimate ?? 0, p.rowsCopied, 1);
      const payload = { id: p.id, text: formatProgress(p) };
      if (current?.id === p.id) {
        current.bar.setTotal(total);
        current.bar.update(p.rowsCopied, payload);
        return;
      }
      current?.bar.stop();
      const format = p.rowsEstimate === null ? "{id} {text}" : "{id} [{bar}] {percentage}% | {text}";
      current = { id: p.id, bar: new SingleBar({ stream: process.stderr, format, hideCursor: true }, Presets.shades_classic) };
      current.bar.start(total, p.rowsCopied, payload);
    },
    stop: () => current?.bar.stop(),
  };
}
