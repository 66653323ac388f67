import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Faults to inject, each a number of requests still to affect (decremented as they are used). Only
 * requests whose path contains `match` (default `.parquet`: the archive data objects) are affected,
 * except `denyWrites`, which answers every PUT with 403.
 */
export interface Faults {
  match?: string;
  /** PUT bodies (single PUT or multipart part) with one bit flipped before they reach the server. */
  flipUpload?: number;
  /** GET response bodies with one bit flipped before they reach the client. */
  flipDownload?: number;
  /** GET responses cut off halfway by destroying the connection. */
  resetDownload?: number;
  /** GET responses that end cleanly halfway through their announced Content-Length. */
  truncateDownload?: number;
  /** PUT requests answered `403 AccessDenied`. */
  denyWrites?: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`, to use as AWS_ENDPOINT_URL_S3. */
  readonly endpoint: string;
  /** Mutable: set the faults the next requests get. */
  faults: Faults;
  /** How many faults of each kind were injected so far. */
  readonly injected: Record<Exclude<keyof Faults, "match">, number>;
  stop(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of a real S3-compatible server that corrupts, cuts or refuses chosen
 * requests (tests fault-inject S3 through the wire, not through mocks). Bodies are buffered, which is
 * fine at test sizes. The flipped bit is in the middle of the body.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const injected = { flipUpload: 0, flipDownload: 0, resetDownload: 0, truncateDownload: 0, denyWrites: 0 };
  const proxy: { faults: Faults } = { faults: {} };
  const take = (kind: keyof typeof injected, applies: boolean): boolean => {
    const left = proxy.faults[kind] ?? 0;
    if (!applies || left <= 0) return false;
    proxy.faults[kind] = left - 1;
    injected[kind] += 1;
    return true;
  };
  const flip = (body: Buffer): Buffer => {
    const copy = Buffer.from(body);
    if (copy.length > 0) copy[Math.floor(copy.length / 2)]! ^= 0x10;
    return copy;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const matches = (req.url ?? "").includes(proxy.faults.match ?? ".parquet");
      if (req.method === "PUT" && take("denyWrites", true)) {
        res.writeHead(403, { "content-type": "application/xml" });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied (fault proxy)</Message></Error>');
        return;
      }
      let body: Buffer = Buffer.concat(chunks);
      if (req.method === "PUT" && take("flipUpload", matches && body.length > 0)) body = flip(body);
      const forward = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (upstreamRes) => {
          const parts: Buffer[] = [];
          upstreamRes.on("data", (c: Buffer) => parts.push(c));
          upstreamRes.on("end", () => {
            let answer: Buffer = Buffer.concat(parts);
            const isDownload = req.method === "GET" && matches && (upstreamRes.statusCode ?? 0) < 300 && answer.length > 1;
            if (take("resetDownload", isDownload)) {
              res.writeHead(upstreamRes.statusCode ?? 200, upstreamRes.headers);
              res.write(answer.subarray(0, Math.floor(answer.length / 2)));
              setTimeout(() => res.destroy(), 20);
              return;
            }
            if (take("truncateDownload", isDownload)) {
              res.writeHead(upstreamRes.statusCode ?? 200, upstreamRes.headers);
              res.end(answer.subarray(0, Math.floor(answer.length / 2)));
              req.socket.destroySoon();
              return;
            }
            if (take("flipDownload", isDownload)) answer = flip(answer);
            res.writeHead(upstreamRes.statusCode ?? 200, upstreamRes.headers);
            res.end(answer);
          });
        },
      );
      forward.on("error", (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get faults() {
      return proxy.faults;
    },
    set faults(value: Faults) {
      proxy.faults = { ...value };
    },
    injected,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
