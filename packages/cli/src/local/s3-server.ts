import type { AddressInfo } from "node:net";
import S3rver from "s3rver";

export interface LocalS3 {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_S3 (path-style addressing). */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts an S3-compatible server (s3rver) on a free loopback port, storing objects under `directory`. */
export async function startLocalS3(directory: string, buckets: ReadonlyArray<string>): Promise<LocalS3> {
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  const { port } = (await server.run()) as unknown as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => server.close() };
}
