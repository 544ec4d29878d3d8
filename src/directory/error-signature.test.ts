import { describe, expect, it } from "vitest";
import { errorSignature } from "./error-signature.js";

describe("errorSignature", () => {
  it("makes the same failure on two hosts one signature", () => {
    const a = errorSignature("nginx -t failed: unknown directive \"proxy_pas\" in /etc/local/nginx/shop.conf:12", "web7");
    const b = errorSignature("nginx -t failed: unknown directive \"proxy_pas\" in /etc/local/nginx/blog.conf:3", "web12");
    expect(a).toBe(b);
    expect(a).toBe('nginx -t failed: unknown directive "proxy_pas" in <path>:<n>');
  });

  it("normalises host names, addresses, store hashes, numbers and durations", () => {
    expect(errorSignature("web7: health check of postgresql timed out after 30000 ms (connect 10.1.2.3:5432)", "web7")).toBe("<host>: health check of postgresql timed out after <n> ms (connect <ip>)");
    expect(errorSignature("cannot reach db3.acme.example: ECONNREFUSED", "web1")).toBe("cannot reach <host>: ECONNREFUSED");
    expect(errorSignature("missing 0c3v1x0yq6ngzq7ca8s0j8lbp6y1cl4f-system-web1", "web1")).toBe("missing <store>");
    expect(errorSignature("generation 5f0e3c2a9b8d7e6f5a4b failed", "h")).toBe("generation <hex> failed");
  });

  it("keeps what tells failures apart, and stays short", () => {
    expect(errorSignature("redis: unknown directive maxmemory-polic", "r1")).not.toBe(errorSignature("redis: unknown directive save", "r1"));
    expect(errorSignature("x".repeat(5000), "h").length).toBe(300);
  });
});
