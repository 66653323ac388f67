import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { ArchiveError } from "../errors.ts";

/**
 * Creates a named pipe (FIFO, mode 0600) at `file` with mkfifo(1), so a COPY stream and DuckDB can
 * meet in this process without a staging file: DuckDB reads and writes files by path only.
 * @throws ArchiveError when mkfifo is missing or fails (e.g. `file` exists).
 */
export async function createNamedPipe(file: string): Promise<void> {
  try {
    await promisify(execFile)("mkfifo", ["-m", "600", file]);
  } catch (error) {
    throw new ArchiveError(`could not create the named pipe ${file} (mkfifo): ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Waits for both ends of a named pipe, each opening `pipe` by itself: `writer` writes it and closes
 * it, `reader` reads it to end of file. Returns both outcomes.
 *
 * Opening a FIFO blocks until the other end opens it (fifo(7)), so when one side fails before
 * opening, or after closing, the other could wait forever. From the moment one side fails, a
 * stand-in for it opens and closes the pipe every 20 ms until the other side settles: a reader
 * stand-in wakes a writer blocked in open(), whose next write then fails with EPIPE; a writer
 * stand-in wakes a reader blocked in open(), which then reads end of file. Neither touches a pipe
 * both sides still use.
 */
export async function settleNamedPipe<W, R>(
  pipe: string,
  writer: Promise<W>,
  reader: Promise<R>,
): Promise<[PromiseSettledResult<W>, PromiseSettledResult<R>]> {
  const standIn = async (failed: Promise<unknown>, pending: Promise<unknown>, flags: number) => {
    if ((await settled(failed)).status === "fulfilled") return;
    let done = false;
    void settled(pending).then(() => (done = true));
    while (!done) {
      // ENXIO (a non-blocking writer while no reader has opened yet) just means: try again.
      await open(pipe, flags).then((handle) => handle.close(), () => {});
      await sleep(20);
    }
  };
  await Promise.all([
    standIn(writer, reader, constants.O_WRONLY | constants.O_NONBLOCK),
    standIn(reader, writer, constants.O_RDONLY | constants.O_NONBLOCK),
    settled(writer),
    settled(reader),
  ]);
  return Promise.all([settled(writer), settled(reader)]);
}

const settled = <T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> =>
  promise.then(
    (value) => ({ status: "fulfilled", value }) as const,
    (reason: unknown) => ({ status: "rejected", reason }) as const,
  );
