import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { HealthReport } from "@partkeeper/core";
import { runCli, runCliInTerminal } from "./doors.ts";
import { createTestDatabase } from "./helpers.ts";
import { partitionNames } from "./job-context.ts";
import { createTableToPartition, migrationConfig, relationKind } from "./migration-fixture.ts";

describe("partkeeper CLI", async () => {
  const { url, sql } = await createTestDatabase();
  await sql`create table "Événements" (id bigint not null, at date not null) partition by range (at)`;
  const dir = await mkdtemp(path.join(os.tmpdir(), "partkeeper-cli-"));
  const config = path.join(dir, "partkeeper.config.json");
  await writeFile(config, JSON.stringify({ tables: [{ table: "Événements", strategy: "range-time", interval: "month", premake: 1, defaultPartition: false }] }));

  it("plan prints every action with its SQL and changes nothing", async () => {
    const { code, stdout } = await runCli(["plan", "--config", config], { DATABASE_URL: url });
    expect(code).toBe(0);
    expect(stdout).toMatch(/public\.Événements: would create 2/);
    expect(stdout).toMatch(/CREATE TABLE "public"\."Événements_p\d{4}_\d{2}" PARTITION OF "public"\."Événements" FOR VALUES FROM \('\d{4}-\d{2}-01'\) TO/);
    expect(await partitionNames(sql, "public", "Événements")).toEqual([]);
  });

  it("run applies the plan; a second run has nothing to do", async () => {
    const first = await runCli(["run", "maintain", "--config", config], { DATABASE_URL: url });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/created 2/);
    expect(await partitionNames(sql, "public", "Événements")).toHaveLength(2);
    const second = await runCli(["run", "--config", config, "--json"], { DATABASE_URL: url });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).parents[0].actions).toEqual([]);
  });

  it("reads a .ts config with a default export", async () => {
    const tsConfig = path.join(dir, "partkeeper.config.ts");
    await writeFile(tsConfig, `export default { tables: [{ table: "Événements", strategy: "range-time", interval: "month", premake: 1, defaultPartition: false }] };\n`);
    const { code, stdout } = await runCli(["plan", "--config", tsConfig], { DATABASE_URL: url });
    expect(code).toBe(0);
    expect(stdout).toMatch(/public\.Événements: nothing to do/);
  });

  it("status shows each parent's health values and timeline without changing anything; --json gives the report", async () => {
    const { code, stdout } = await runCli(["status", "--config", config], { DATABASE_URL: url });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^public\.Événements \(range-time\): partitions 2, ahead 1 until \d{4}-\d{2}-01, archive backlog 0, last maintain \d+ s ago, /m);
    expect(stdout).toMatch(/^ {2}█░$/m);
    // Not a terminal: no colour codes.
    expect(stdout).not.toContain("\x1b");
    const json = await runCli(["status", "--config", config, "--json"], { DATABASE_URL: url });
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as HealthReport;
    expect(report.parents[0]!.partitionList.map((p) => p.state)).toEqual(["current", "future"]);
  });

  it.skipIf(!existsSync("/usr/bin/script"))("status colours its timeline in a terminal, unless NO_COLOR is set", async () => {
    const colored = await runCliInTerminal(["status", "--config", config], { DATABASE_URL: url, NO_COLOR: undefined });
    expect(colored.stdout).toContain("\x1b[1;32m█\x1b[0m\x1b[36m░\x1b[0m");
    const plain = await runCliInTerminal(["status", "--config", config], { DATABASE_URL: url, NO_COLOR: "1" });
    expect(plain.stdout).not.toContain("\x1b");
    expect(plain.stdout).toMatch(/^ {2}█░\r$/m);
  });

  it("report --html writes the health as one HTML page and prints its path", async () => {
    const file = path.join(dir, "health.html");
    const { code, stdout } = await runCli(["report", "--config", config, "--html", file], { DATABASE_URL: url });
    expect(code).toBe(0);
    expect(stdout).toBe(`${file}\n`);
    const html = await readFile(file, "utf8");
    expect(html).toContain('<section class="parent" data-parent="public.Événements">');
    expect(html.match(/<rect class="partition"/g)).toHaveLength(2);
  });

  it("fails with exit code 2 and a one-line reason on bad input", async () => {
    const bad = path.join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ tables: [{ table: "x", strategy: "range-time", interval: "month", premake: -1 }] }));
    const invalid = await runCli(["plan", "--config", bad], { DATABASE_URL: url });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr.trim().split("\n")).toHaveLength(1);
    expect(invalid.stderr).toMatch(/^partkeeper: .*bad\.json is invalid: tables\.0\.premake: must be 0 or more/);

    const noUrl = await runCli(["plan", "--config", config], { DATABASE_URL: undefined });
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/^partkeeper: DATABASE_URL is not set/);

    const wrongJob = await runCli(["run", "explode", "--config", config], { DATABASE_URL: url });
    expect(wrongJob.code).toBe(2);
    expect(wrongJob.stderr).toMatch(/explode/);
  });

  it("refuses a --table that is not in the config with exit code 2, naming it, in plan, run and status", async () => {
    const runsBefore = await sql`select count(*)::int as n from partkeeper.job_run`;
    for (const command of ["plan", "run", "status"]) {
      const { code, stdout, stderr } = await runCli([command, "--config", config, "--table", "public.Événements", "--table", "public.evenements"], { DATABASE_URL: url });
      expect(code).toBe(2);
      expect(stdout).toBe("");
      expect(stderr).toBe(
        "partkeeper: public.evenements is not a table in the config: name a configured parent as schema.table, exactly as configured (case-sensitive), " +
          "or add it to the config's tables; configured: public.Événements\n",
      );
    }
    expect(await sql`select count(*)::int as n from partkeeper.job_run`).toEqual(runsBefore);
  });

  it("refuses a DATABASE_URL that is not a postgres:// URL with exit code 2, without echoing it", async () => {
    for (const [value, problem] of [
      ["host=db.internal user=app password=s3cret", "is not a URL"],
      ["db.internal:5432/app", "is not a URL"],
      ["mysql://app:s3cret@db.internal/app", "has scheme mysql://, not postgres:// or postgresql://"],
      ["postgres://app:s3cret@db.internal:54x32/app", "cannot be parsed as a URL"],
    ] as const) {
      const { code, stderr } = await runCli(["plan", "--config", config], { DATABASE_URL: value });
      expect(code).toBe(2);
      expect(stderr).toBe(
        `partkeeper: DATABASE_URL ${problem}: use postgres://user:password@host:5432/database (percent-encode special characters in the user name and password)\n`,
      );
    }
    const flag = await runCli(["status", "--config", config, "--database-url", "localhost"], { DATABASE_URL: url });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^partkeeper: --database-url is not a URL: use postgres:/);
  });

  it("exits 1 when a parent fails, naming it", async () => {
    const missing = path.join(dir, "missing.json");
    await writeFile(missing, JSON.stringify({ tables: [{ table: "nope", strategy: "hash", modulus: 2 }] }));
    const { code, stdout, stderr } = await runCli(["run", "--config", missing], { DATABASE_URL: url });
    expect(code).toBe(1);
    expect(stderr).toBe("partkeeper: 1 of 1 parent(s) failed; first: public.nope: public.nope does not exist: create it as a partitioned table (CREATE TABLE ... PARTITION BY ...) or fix schema/table in the config\n");
    expect(stdout).toMatch(/public\.nope: FAILED: public\.nope does not exist/);
  });
});

describe("partkeeper migrate", async () => {
  const { url, sql } = await createTestDatabase();
  await createTableToPartition(sql, "Orders", 3000);
  await createTableToPartition(sql, "Invoices", 3000);
  const dir = await mkdtemp(path.join(os.tmpdir(), "partkeeper-cli-migrate-"));
  const config = path.join(dir, "partkeeper.config.json");
  await writeFile(
    config,
    JSON.stringify(
      migrationConfig([
        { id: "orders-by-month", table: "Orders" },
        { id: "invoices-by-month", table: "Invoices" },
      ]),
    ),
  );
  const env = { DATABASE_URL: url };
  const tables = async () => (await sql`select relname from pg_class where relnamespace = 'public'::regnamespace order by relname`).map((r) => r.relname);

  it("plan prints every step with its SQL and changes nothing", async () => {
    const before = await tables();
    const { code, stdout, stderr } = await runCli(["migrate", "plan", "--config", config], env);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^partkeeper migrate run \(plan: nothing changed\), 2 migration\(s\)/);
    expect(stdout).toMatch(/orders-by-month \(partition-table public\.Orders\)/);
    expect(stdout).toMatch(/CREATE TABLE .*PARTITION BY RANGE \("createdAt"\)/);
    expect(await tables()).toEqual(before);
    expect((await sql`select to_regclass('partkeeper.data_migration') as t`)[0]!.t).toBeNull();
    const status = await runCli(["migrate", "status", "--config", config], env);
    expect(status.stdout).toBe("orders-by-month (partition-table public.Orders): new\ninvoices-by-month (partition-table public.Invoices): new\n");
  });

  it("run backfills and verifies, stopping before a manual swap; plain output when stderr is not a terminal", async () => {
    const { code, stdout, stderr } = await runCli(["migrate", "run", "--config", config, "--id", "orders-by-month"], env);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/orders-by-month \(partition-table public\.Orders\): new -> verified; 3,000 rows backfilled/);
    expect(stdout).toMatch(/verified 3,000 rows in \d+ key ranges .*: equal/);
    expect(await relationKind(sql, "Orders")).toBe("r");
  });

  it.skipIf(!existsSync("/usr/bin/script"))("run shows a progress bar (rows, rows/s, ETA) in a terminal", async () => {
    const { stdout } = await runCliInTerminal(["migrate", "run", "-c", config, "--id", "invoices-by-month"], env);
    expect(stdout).toMatch(/invoices-by-month \[[█░]+\] \d+% \| [\d,]+ \/ ~[\d,]+ rows, [\d,]+ rows\/s, ETA/);
    expect(stdout).toMatch(/invoices-by-month \(partition-table public\.Invoices\): new -> verified/);
  });

  it("status reports each migration's state, as text and as JSON", async () => {
    const text = await runCli(["migrate", "status", "--config", config], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^orders-by-month \(partition-table public\.Orders\): verified$/m);
    expect(text.stdout).toMatch(/^ {2}backfill: 3,000 .*rows/m);
    const json = await runCli(["migrate", "status", "--config", config, "--id", "orders-by-month", "--json"], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject([{ id: "orders-by-month", table: "public.Orders", state: "verified", paused: false, pendingChanges: 0 }]);
  });

  it("swap --id puts the partitioned copy in place; rollback --id swaps back", async () => {
    const swap = await runCli(["migrate", "swap", "--config", config, "--id", "orders-by-month"], env);
    expect(swap.stderr).toBe("");
    expect(swap.code).toBe(0);
    expect(swap.stdout).toMatch(/orders-by-month .*: verified -> swapped\. swapped: public\.Orders is partitioned/);
    expect(await relationKind(sql, "Orders")).toBe("p");
    expect((await partitionNames(sql, "public", "Orders")).length).toBeGreaterThan(1);
    expect((await sql`select count(*)::int as n from "Orders"`)[0]!.n).toBe(3000);

    const rollback = await runCli(["migrate", "rollback", "--config", config, "--id", "orders-by-month", "--json"], env);
    expect(rollback.code).toBe(0);
    expect(JSON.parse(rollback.stdout)).toMatchObject({ action: "rollback", ok: true, migrations: [{ stateBefore: "swapped", stateAfter: "rolled-back" }] });
    expect(await relationKind(sql, "Orders")).toBe("r");
    expect((await sql`select count(*)::int as n from "Orders"`)[0]!.n).toBe(3000);
  });

  it("refuses an unknown --id, or none where one is needed, with exit code 2 and changes nothing", async () => {
    const before = await tables();
    for (const command of ["swap", "status", "run"]) {
      const { code, stdout, stderr } = await runCli(["migrate", command, "--config", config, "--id", "nope"], env);
      expect(code).toBe(2);
      expect(stdout).toBe("");
      expect(stderr).toBe('partkeeper: "nope" is not a migration id of the config (migrations: orders-by-month, invoices-by-month)\n');
    }
    const noId = await runCli(["migrate", "swap", "--config", config], env);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toMatch(/required option '--id <id>' not specified/);
    expect(await tables()).toEqual(before);
  });

  it("exits 1 when a migration fails, naming it", async () => {
    const { code, stderr } = await runCli(["migrate", "finalize", "--config", config, "--id", "invoices-by-month"], env);
    expect(code).toBe(1);
    expect(stderr).toBe("partkeeper: 1 of 1 migration(s) failed; first: invoices-by-month: migration invoices-by-month is verified: only a swapped migration can be finalized\n");
  });
});
