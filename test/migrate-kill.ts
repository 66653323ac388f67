import { spawn } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type postgres from "postgres";
import type { ConfigInput } from "@partkeeper/core";

/**
 * The kill -9 harness of the migration crash tests: `migrate <action>` in a child process
 * (test/migrate-child.ts) that a test stops where it wants (by polling pg_stat_activity, or by holding
 * a lock the child waits for) and kills with SIGKILL. Sessions of the child carry the application
 * name `pk-migrate-child`, so the test sees what they run and when Postgres has ended them.
 */

const CHILD = path.resolve(import.meta.dirname, "migrate-child.ts");
const CHILD_APP = "pk-migrate-child";

export interface ChildProcess {
  readonly output: string;
  readonly running: boolean;
  /** Sends SIGKILL and waits for the process to exit. */
  kill(): Promise<void>;
}

export interface ChildSession {
  pid: number;
  state: string;
  query: string;
  waitEventType: string | null;
}

/** The harness for the database at `url` (`sql` is the test's own connection to it). */
export function migrateKillHarness(sql: postgres.Sql, url: string) {
  const childUrl = new URL(url);
  childUrl.searchParams.set("application_name", CHILD_APP);

  /** Starts `migrate <action>` (of migration `id`, or all) with `config` in a child process. */
  function startChild(config: ConfigInput, action: string, id = ""): ChildProcess {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, childUrl.toString(), JSON.stringify(config), action, id], {
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    return {
      get output() {
        return output;
      },
      get running() {
        return child.exitCode === null && child.signalCode === null;
      },
      async kill() {
        child.kill("SIGKILL");
        await exited;
      },
    };
  }

  /** Polls `probe` until it returns something truthy; fails with the child's output if the child ends first. */
  async function waitFor<T>(what: string, child: ChildProcess, probe: () => Promise<T>, timeoutMs = 60_000): Promise<NonNullable<T>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (!child.running) {
        await sleep(100); // the last output may arrive after the exit
        throw new Error(`the child ended before ${what}:\n${child.output}`);
      }
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}:\n${child.output}`);
      await sleep(2);
    }
  }

  /** The child's sessions in pg_stat_activity: what each runs and whether it waits for a lock. */
  const childSessions = () =>
    sql<ChildSession[]>`select pid, state, query, wait_event_type as "waitEventType" from pg_stat_activity where application_name = ${CHILD_APP}`;

  /** After a kill: the killed sessions end (their advisory lock with them) once Postgres sees the closed sockets. */
  async function childSessionsGone(): Promise<void> {
    const until = Date.now() + 30_000;
    while ((await childSessions()).length > 0) {
      if (Date.now() > until) throw new Error(`sessions of the killed child are still there: ${JSON.stringify(await childSessions())}`);
      await sleep(10);
    }
  }

  /** Whether a session of the child holds `mode` on `table` (granted): it is inside that step's transaction. */
  async function childHolds(table: string, mode: string): Promise<boolean> {
    const [held] = await sql`
      select count(*)::int as n from pg_locks l join pg_stat_activity a using (pid)
      where a.application_name = ${CHILD_APP} and l.relation = to_regclass(${table}) and l.mode = ${mode} and l.granted`;
    return held!.n > 0;
  }

  /** Starts `start()`, waits until `probe` holds, kills the child and waits for its sessions to end. */
  async function killWhen(options: { start: () => ChildProcess; what: string; probe: () => Promise<boolean> }): Promise<void> {
    const child = options.start();
    await waitFor(options.what, child, options.probe);
    await child.kill();
    await childSessionsGone();
  }

  /**
   * Holds a lock (`lock`, run in an open transaction of the test's connection), starts the child, waits
   * until `probe` sees it where the test wants it (stopped by the lock), kills it, then releases the lock
   * and waits for the killed sessions to end.
   */
  async function killWhileHolding(lock: string, options: { start: () => ChildProcess; what: string; probe: () => Promise<boolean> }): Promise<void> {
    const holder = await sql.reserve();
    try {
      await holder`begin`;
      await holder.unsafe(lock);
      const child = options.start();
      await waitFor(options.what, child, options.probe);
      await child.kill();
    } finally {
      await holder`rollback`;
      holder.release();
    }
    await childSessionsGone();
  }

  return { startChild, waitFor, childSessions, childSessionsGone, childHolds, killWhen, killWhileHolding };
}
