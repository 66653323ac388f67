import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArchiveError, ConfigError } from "../packages/core/src/errors.ts";
import { parseArchiveLocation } from "../packages/core/src/store/archive-location.ts";
import type { S3Store } from "../packages/core/src/store/s3-store.ts";
import { listObjects, testS3Store, useTestS3 } from "./helpers.ts";

describe("parseArchiveLocation", () => {
  it("splits bucket and prefix", () => {
    expect(parseArchiveLocation("s3://my-bucket/some/prefix/")).toEqual({ bucket: "my-bucket", prefix: "some/prefix" });
    expect(parseArchiveLocation("s3://my-bucket")).toEqual({ bucket: "my-bucket", prefix: "" });
    expect(parseArchiveLocation("s3://my.bucket/")).toEqual({ bucket: "my.bucket", prefix: "" });
  });

  it.each(["my-bucket/x", "s3://", "s3://UPPER/x", "https://bucket/x", "s3://ab", "s3://bucket/a//b"])("rejects %j", (text) => {
    expect(() => parseArchiveLocation(text)).toThrow(ConfigError);
  });
});

describe("S3 store against a real S3-compatible server", () => {
  let location: string;
  let store: S3Store;
  let dir: string;

  beforeAll(async () => {
    location = useTestS3();
    store = testS3Store(location);
    dir = await mkdtemp(path.join(os.tmpdir(), "pk-store-"));
  });
  afterAll(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("head of a missing key is null and getJson of a missing key is null", async () => {
    expect(await store.head("nothing/here.parquet")).toBeNull();
    expect(await store.getJson("nothing/manifest.json")).toBeNull();
  });

  it("writes a file once: a second put returns exists and keeps the first content", async () => {
    const a = path.join(dir, "a.bin");
    const b = path.join(dir, "b.bin");
    await writeFile(a, "first");
    await writeFile(b, "second, longer");
    const key = "once/%C3%89v%20x/data.parquet";
    expect(await store.putFile(key, a, { contentType: "application/octet-stream", metadata: { sha256: "abc" } })).toBe("created");
    expect(await store.putFile(key, b, { contentType: "application/octet-stream" })).toBe("exists");
    expect(await store.head(key)).toEqual({ bytes: 5, metadata: { sha256: "abc" } });
    const back = path.join(dir, "back.bin");
    expect(await store.getToFile(key, back)).toEqual({ bytes: 5, sha256: createHash("sha256").update("first").digest("hex") });
    expect(await readFile(back, "utf8")).toBe("first");
  });

  it("writes JSON once and lists keys relative to the prefix", async () => {
    expect(await store.putJson("j/manifest.json", { a: 1, text: "Événements \"x\"" })).toBe("created");
    expect(await store.putJson("j/manifest.json", { a: 2 })).toBe("exists");
    expect(await store.getJson("j/manifest.json")).toEqual({ a: 1, text: "Événements \"x\"" });
    await expect(store.putJson("j/null.json", null)).rejects.toThrow(ArchiveError);
    const listed = await listObjects(store.location, "j/");
    expect(listed.map((o) => o.key)).toEqual(["j/manifest.json"]);
  });

  it("uploads a large file as multipart, once", async () => {
    const multi = testS3Store(location, { multipartThresholdBytes: 5 * 1024 * 1024, partSizeBytes: 5 * 1024 * 1024 });
    try {
      const big = path.join(dir, "big.bin");
      const content = randomBytes(11 * 1024 * 1024 + 17);
      await writeFile(big, content);
      expect(await multi.putFile("multi/data.parquet", big, { contentType: "application/vnd.apache.parquet" })).toBe("created");
      expect(await multi.putFile("multi/data.parquet", big, { contentType: "application/vnd.apache.parquet" })).toBe("exists");
      const back = path.join(dir, "big-back.bin");
      expect((await multi.getToFile("multi/data.parquet", back)).bytes).toBe(content.length);
      expect((await readFile(back)).equals(content)).toBe(true);
    } finally {
      multi.close();
    }
  });

  it("fails fast with a clear ArchiveError when the endpoint is unreachable", async () => {
    const dead = testS3Store("s3://partkeeper-test/x", { endpoint: "http://127.0.0.1:1" });
    const started = Date.now();
    try {
      const error = await dead.head("some/key").then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ArchiveError);
      const message = (error as Error).message;
      expect(message).toContain("http://127.0.0.1:1");
      expect(message).toContain("s3://partkeeper-test/x/some/key");
      expect(message).toContain("cannot reach endpoint");
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      dead.close();
    }
  });

  it("fails fast through the environment too (AWS_ENDPOINT_URL_S3)", async () => {
    const saved = process.env.AWS_ENDPOINT_URL_S3;
    process.env.AWS_ENDPOINT_URL_S3 = "http://127.0.0.1:1";
    const dead = testS3Store("s3://partkeeper-test/x");
    process.env.AWS_ENDPOINT_URL_S3 = saved;
    const started = Date.now();
    try {
      await expect(dead.putJson("m.json", { a: 1 })).rejects.toThrow(/cannot reach endpoint http:\/\/127\.0\.0\.1:1/);
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      dead.close();
    }
  });

  it("names bucket and key when the bucket does not exist", async () => {
    const missing = testS3Store("s3://no-such-bucket-pk/p");
    try {
      await expect(missing.putJson("k.json", { a: 1 })).rejects.toThrow(/s3:\/\/no-such-bucket-pk\/p\/k\.json/);
    } finally {
      missing.close();
    }
  });
});
