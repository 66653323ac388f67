import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { PutObjectCommandInput, S3Client } from "@aws-sdk/client-s3";
import type { ArchiveLocation } from "./archive-location.ts";
import { ArchiveError } from "../errors.ts";
import type { ObjectHead, ObjectStore, PutFileOptions, PutOutcome } from "./object-store.ts";

export interface S3StoreOptions {
  /**
   * S3 endpoint URL. Default: AWS's own endpoint of the region. When an endpoint is set, path-style
   * addressing is used (S3-compatible servers such as s3rver or MinIO).
   */
  readonly endpoint?: string;
  /** Default `us-east-1`. */
  readonly region?: string;
  /** TCP connect timeout per attempt, ms. Default 3000. */
  readonly connectionTimeoutMs?: number;
  /** A socket idle for this long fails the attempt, ms. Default 60000. */
  readonly socketTimeoutMs?: number;
  /** Attempts per request including the first (SDK standard retry mode). Default 3. */
  readonly maxAttempts?: number;
  /** Files of at least this size go up as multipart uploads, bytes. Default 64 MiB. */
  readonly multipartThresholdBytes?: number;
  /** Multipart part size, bytes (S3 minimum 5 MiB). Default 16 MiB. */
  readonly partSizeBytes?: number;
  /** Parts uploaded in parallel. Default 4. */
  readonly queueSize?: number;
}

const MiB = 1024 * 1024;

/** An S3-backed store; `close()` releases the client's sockets. */
export interface S3Store extends ObjectStore {
  readonly bucket: string;
  readonly prefix: string;
  /** The endpoint in use, or `null` for AWS's default endpoint of the region. */
  readonly endpoint: string | null;
  close(): void;
}

/**
 * The store options the AWS SDK's standard environment gives (DESIGN "Local and test defaults"):
 * endpoint from `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`; region from `AWS_REGION`, else
 * `AWS_DEFAULT_REGION`. Core never reads `process.env`: the door passes its environment in.
 */
export function s3OptionsFromEnvironment(env: Readonly<Record<string, string | undefined>>): Pick<S3StoreOptions, "endpoint" | "region"> {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  return { ...(endpoint === undefined ? {} : { endpoint }), ...(region === undefined ? {} : { region }) };
}

/**
 * Creates an ObjectStore over `s3://bucket/prefix` with the AWS SDK v3 and its standard environment:
 * credentials from the default provider chain (env, profile, container/instance role), `options.region`
 * (default `us-east-1`) and `options.endpoint` (default: AWS's; `s3OptionsFromEnvironment` reads them
 * from the standard variables). Connection timeouts are short and retries bounded, so an
 * unreachable endpoint fails in seconds (about 10 s worst case with the defaults) instead of hanging.
 *
 * Writes are written-once (DESIGN rule 7): a HEAD first (S3-compatible servers may ignore
 * `If-None-Match`), then the write with `If-None-Match: *`; a 412 answer also means `"exists"`.
 *
 * Every S3 failure is an ArchiveError naming the
 *   bucket, the key and the endpoint, with the SDK error as `cause`.
 */
export function createS3Store(location: ArchiveLocation, options: S3StoreOptions = {}): S3Store {
  const { bucket, prefix } = location;
  const endpoint = options.endpoint;
  const region = options.region ?? "us-east-1";
  const multipartThresholdBytes = options.multipartThresholdBytes ?? 64 * MiB;
  const partSizeBytes = Math.max(options.partSizeBytes ?? 16 * MiB, 5 * MiB);
  // The AWS SDK loads on the first request, not with this module: it costs about 0.2 s of every CLI
  // start and Lambda cold start, and `plan`, `status` and the maintain job never reach S3.
  let client: S3Client | undefined;
  let loading: Promise<{ sdk: typeof import("@aws-sdk/client-s3"); client: S3Client }> | undefined;
  const aws = () =>
    (loading ??= import("@aws-sdk/client-s3").then((sdk) => {
      client = new sdk.S3Client({
        region,
        ...(endpoint !== undefined ? { endpoint, forcePathStyle: true } : {}),
        maxAttempts: options.maxAttempts ?? 3,
        requestHandler: {
          connectionTimeout: options.connectionTimeoutMs ?? 3000,
          socketTimeout: options.socketTimeoutMs ?? 60_000,
        },
      });
      return { sdk, client };
    }));
  const endpointText = endpoint ?? `AWS S3 (${region})`;
  const base = `s3://${bucket}${prefix === "" ? "" : `/${prefix}`}`;

  const fullKey = (key: string): string => {
    if (key === "" || key.startsWith("/")) {
      throw new ArchiveError(`object key ${JSON.stringify(key)} under ${base} must be non-empty and relative (no leading "/")`);
    }
    return prefix === "" ? key : `${prefix}/${key}`;
  };

  const fail = (operation: string, key: string, error: unknown): ArchiveError =>
    new ArchiveError(describeS3Failure(operation, `s3://${bucket}/${key}`, endpointText, error), { cause: error });

  async function head(key: string): Promise<ObjectHead | null> {
    const Key = fullKey(key);
    try {
      const { sdk, client } = await aws();
      const out = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key, ChecksumMode: "ENABLED" }));
      const sha256 = out.ChecksumSHA256 && !out.ChecksumSHA256.includes("-") ? Buffer.from(out.ChecksumSHA256, "base64").toString("hex") : undefined;
      return { bytes: out.ContentLength ?? 0, metadata: out.Metadata ?? {}, ...(sha256 === undefined ? {} : { sha256 }) };
    } catch (error) {
      if (httpStatus(error) === 404) return null;
      throw fail("HEAD", Key, error);
    }
  }

  /** Runs a conditional write; a 412 Precondition Failed means another writer got there first. */
  async function writeOnce(Key: string, operation: string, write: () => Promise<unknown>): Promise<PutOutcome> {
    try {
      await write();
      return "created";
    } catch (error) {
      if (httpStatus(error) === 412 || errorName(error) === "PreconditionFailed") return "exists";
      throw fail(operation, Key, error);
    }
  }

  async function putFile(key: string, file: string, putOptions: PutFileOptions): Promise<PutOutcome> {
    const Key = fullKey(key);
    if ((await head(key)) !== null) return "exists";
    const { size } = await stat(file);
    const params: PutObjectCommandInput = {
      Bucket: bucket,
      Key,
      ContentType: putOptions.contentType,
      Metadata: { ...putOptions.metadata },
      IfNoneMatch: "*",
      // S3 recomputes the checksum of what it received and rejects the request on a mismatch (BadDigest).
      ChecksumAlgorithm: "SHA256",
    };
    if (size < multipartThresholdBytes) {
      // A Buffer body, not a stream: the SDK then sends its checksum as a header instead of an
      // aws-chunked trailer, which S3-compatible servers such as s3rver store verbatim (measured).
      const Body = await readFile(file);
      const ChecksumSHA256 = putOptions.sha256 === undefined ? undefined : Buffer.from(putOptions.sha256, "hex").toString("base64");
      const { sdk, client } = await aws();
      return writeOnce(Key, "PUT", () => client.send(new sdk.PutObjectCommand({ ...params, Body, ContentLength: Body.length, ChecksumSHA256 })));
    }
    const [{ client }, { Upload }] = await Promise.all([aws(), import("@aws-sdk/lib-storage")]);
    return writeOnce(Key, "multipart upload", () =>
      new Upload({
        client,
        params: { ...params, Body: createReadStream(file), ContentLength: size },
        partSize: partSizeBytes,
        queueSize: options.queueSize ?? 4,
        leavePartsOnError: false,
      }).done(),
    );
  }

  /**
   * Downloads with up to `maxAttempts` tries: the SDK retries failed requests, not a body stream
   * that breaks after the headers (a reset connection, a truncated body).
   */
  async function getToFile(key: string, file: string): Promise<{ readonly bytes: number; readonly sha256: string }> {
    const Key = fullKey(key);
    const attempts = options.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      let body: Readable;
      let expected: number | undefined;
      try {
        const { sdk, client } = await aws();
        const out = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key }));
        body = out.Body as Readable;
        expected = out.ContentLength;
      } catch (error) {
        throw fail("GET", Key, error);
      }
      let failure: ArchiveError;
      try {
        // Hashed while it streams: no second read of the file.
        const hash = createHash("sha256");
        await pipeline(
          body,
          async function* (chunks: AsyncIterable<Buffer>) {
            for await (const chunk of chunks) {
              hash.update(chunk);
              yield chunk;
            }
          },
          createWriteStream(file),
        );
        const bytes = (await stat(file)).size;
        if (expected === undefined || bytes === expected) return { bytes, sha256: hash.digest("hex") };
        failure = new ArchiveError(
          `S3 download of s3://${bucket}/${Key} from ${endpointText} was truncated: received ${bytes} of ${expected} bytes (attempt ${attempt} of ${attempts})`,
        );
      } catch (error) {
        const received = await stat(file).then((f) => f.size, () => 0);
        failure = fail(`download (attempt ${attempt} of ${attempts}, ${received} of ${expected ?? "?"} bytes received) to ${file}`, Key, error);
      }
      if (attempt >= attempts) throw failure;
    }
  }

  async function checkWritable(): Promise<void> {
    const Key = fullKey(".partkeeper/write-check");
    const Body = Buffer.from(`${JSON.stringify({ purpose: "partkeeper checks that it may write here before it detaches a partition" })}\n`);
    const { sdk, client } = await aws();
    await writeOnce(Key, "write check (PUT)", () =>
      client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key, Body, ContentLength: Body.length, ContentType: "application/json", IfNoneMatch: "*" })),
    );
  }

  async function putJson(key: string, value: unknown): Promise<PutOutcome> {
    const Key = fullKey(key);
    if (value === null || value === undefined) {
      throw new ArchiveError(`refusing to write ${String(value)} as JSON to s3://${bucket}/${Key}: it would read back as missing`);
    }
    if ((await head(key)) !== null) return "exists";
    const Body = Buffer.from(`${JSON.stringify(value, null, 2)}\n`, "utf8");
    const { sdk, client } = await aws();
    return writeOnce(Key, "PUT", () =>
      client.send(
        new sdk.PutObjectCommand({
          Bucket: bucket,
          Key,
          Body,
          ContentLength: Body.length,
          ContentType: "application/json",
          IfNoneMatch: "*",
        }),
      ),
    );
  }

  async function getJson(key: string): Promise<unknown> {
    const Key = fullKey(key);
    let text: string;
    try {
      const { sdk, client } = await aws();
      const out = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key }));
      text = await out.Body!.transformToString("utf8");
    } catch (error) {
      if (httpStatus(error) === 404) return null;
      throw fail("GET", Key, error);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ArchiveError(`s3://${bucket}/${Key} is not valid JSON: inspect or delete the object`, { cause: error });
    }
  }

  return Object.freeze({
    location: base,
    bucket,
    prefix,
    endpoint: endpoint ?? null,
    head,
    checkWritable,
    putFile,
    getToFile,
    putJson,
    getJson,
    close: () => client?.destroy(),
  });
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : String(error);
}

/** Network-level failure codes (Node and the SDK's timeout errors): the endpoint was not reached. */
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "TimeoutError"]);

/** The connection was made, then broke mid-request or mid-transfer. */
const BROKEN = new Set(["ECONNRESET", "EPIPE", "ERR_STREAM_PREMATURE_CLOSE", "ECONNABORTED"]);

/** One message naming operation, object and endpoint, plus a hint for the usual causes. */
function describeS3Failure(operation: string, object: string, endpoint: string, error: unknown): string {
  const code = (error as { code?: string } | null)?.code ?? errorName(error);
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const status = httpStatus(error);
  if (BROKEN.has(code) || /socket hang up|aborted|premature close/i.test(detail)) {
    return `S3 ${operation} of ${object} failed: the connection to ${endpoint} was reset or closed mid-transfer (${detail}); a network or proxy fault, run again`;
  }
  if (UNREACHABLE.has(code) || UNREACHABLE.has(errorName(error))) {
    return `S3 ${operation} of ${object} failed: cannot reach endpoint ${endpoint} (${detail}); check AWS_ENDPOINT_URL_S3, network access or the VPC endpoint`;
  }
  const hint =
    code === "NoSuchBucket"
      ? "; the bucket does not exist: create it or fix archive.location"
      : status === 403
        ? "; access denied: check the credentials and the bucket policy (the archive job needs s3:PutObject on the prefix)"
        : status === 404 || code === "NoSuchKey"
          ? "; check the bucket name and the key"
          : "";
  return `S3 ${operation} of ${object} at ${endpoint} failed${status ? ` with HTTP ${status}` : ""} (${detail})${hint}`;
}
