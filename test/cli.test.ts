import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./doors.ts";
import { createTestDatabase } from "./helpers.ts";
import { partitionNames } from "./job-context.ts";

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

  it("status reports partitions ahead and recent runs without changing anything", async () => {
    const { code, stdout } = await runCli(["status", "--config", config], { DATABASE_URL: url });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^public\.Événements: 2 partitions, [\d.]+ MB; 1 ahead$/m);
    expect(stdout).toMatch(/run \S+ maintain succeeded \d+ ms/);
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
