import type { AddressInfo } from "node:net";

export interface LocalS3 {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_S3 (path-style addressing). */
  readonly endpoint: string;
  /**
   * The AWS SDK's standard environment for reaching this server, as a user reaches theirs:
   * endpoint (path-style), any credentials (s3rver does not check them; existing ones are kept),
   * a region, and the Node-version notice silenced (Lambda runs nodejs22.x, docs/deploy.md).
   */
  readonly sdkEnvironment: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/** Starts an S3-compatible server (s3rver) on a free loopback port, storing objects under `directory`. */
export async function startLocalS3(directory: string, buckets: ReadonlyArray<string>): Promise<LocalS3> {
  // Imported here, not at the top: the CLI's bundle would hoist a static import of this external
  // package and load it (about 0.2 s) on every start, not only the demo's.
  const { default: S3rver } = await import("s3rver");
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  const { port } = (await server.run()) as unknown as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const sdkEnvironment = {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? "S3RVER",
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? "S3RVER",
    AWS_REGION: process.env.AWS_REGION ?? "us-east-1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  return { endpoint, sdkEnvironment, stop: () => server.close() };
}
