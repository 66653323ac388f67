import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createNamedPipe, settleNamedPipe } from "./named-pipe.ts";

describe("named pipe between a writer and a reader in one process", () => {
  let dir: string;
  let pipe: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "partkeeper-pipe-"));
    pipe = path.join(dir, "p.csv");
    await createNamedPipe(pipe);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const readAll = async () => {
    let text = "";
    for await (const chunk of createReadStream(pipe)) text += String(chunk);
    return text;
  };

  it("passes everything the writer writes", async () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `${i},row ${i}\n`);
    const [written, read] = await settleNamedPipe(pipe, pipeline(Readable.from(lines), createWriteStream(pipe)), readAll());
    expect(written.status).toBe("fulfilled");
    expect(read).toEqual({ status: "fulfilled", value: lines.join("") });
  });

  it("lets the reader finish when the writer fails before opening the pipe", async () => {
    const [written, read] = await settleNamedPipe(pipe, Promise.reject(new Error("COPY failed")), readAll());
    expect(written).toMatchObject({ status: "rejected", reason: { message: "COPY failed" } });
    expect(read).toEqual({ status: "fulfilled", value: "" });
  });

  it("fails the writer with EPIPE when the reader fails before opening the pipe", async () => {
    const endless = Readable.from((function* () { for (;;) yield "x".repeat(65_536); })());
    const [written, read] = await settleNamedPipe(pipe, pipeline(endless, createWriteStream(pipe)), Promise.reject(new Error("bad SQL")));
    expect(written).toMatchObject({ status: "rejected", reason: { code: "EPIPE" } });
    expect(read.status).toBe("rejected");
  });

  it("says when the pipe cannot be created", async () => {
    await expect(createNamedPipe(pipe)).rejects.toThrow(/could not create the named pipe .*p\.csv/);
  });
});
