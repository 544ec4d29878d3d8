import http from "node:http";
import https from "node:https";

/** A whole answer: status, headers, body text. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTP(S) request with a bounded wait, on node:http rather than the global fetch: the
 * agent makes two requests per run, and loading fetch's engine costs more than they do.
 * Rejects with the socket error (e.g. ECONNREFUSED, or a TLS verification error such as
 * UNABLE_TO_VERIFY_LEAF_SIGNATURE) or a timeout error named "TimeoutError". `ca`: PEM
 * certificates to trust instead of the system's (a private CA).
 *
 * @example const a = await httpRequest("GET", "http://127.0.0.1:8470/v1/health", {}, undefined, 5000);
 */
export function httpRequest(method: string, url: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number, ca?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === "https:" ? https : http;
    const all = body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) };
    // A private CA is trusted for this request only: the system's roots stay as they are elsewhere.
    const req = client.request(target, { method, headers: all, ...(ca ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: "TimeoutError" })));
    req.on("error", reject);
    req.end(body);
  });
}
