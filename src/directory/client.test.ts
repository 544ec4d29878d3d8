import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DirectoryClient, DirectoryHttpError } from "./client.js";
import { sha256 } from "./http.js";
import { buildDirectory } from "./server.js";
import { openSqliteStorage } from "./storage/sqlite/index.js";

const servers: { close(): unknown }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function raw(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push({ close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))) });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("DirectoryClient", () => {
  it("a directory that does not answer in time, or a proxy's 503, is E_DIRECTORY_UNREACHABLE", async () => {
    const silent = await raw(() => {});
    const c = new DirectoryClient({ url: silent, token: "t", timeoutMs: 200 });
    await expect(c.getConfig("web1")).rejects.toMatchObject({ code: "E_DIRECTORY_UNREACHABLE", message: expect.stringContaining("no answer within 200 ms") });
    const proxy = await raw((_req, res) => res.writeHead(503).end("bad gateway"));
    await expect(new DirectoryClient({ url: proxy, token: "t" }).getConfig("web1")).rejects.toMatchObject({ code: "E_DIRECTORY_UNREACHABLE" });
  });

  it("an error answer names the URL, the status and the server's message, code and field", async () => {
    const storage = openSqliteStorage(":memory:");
    const app = buildDirectory({ storage, adminTokenHash: sha256("admin") });
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    servers.push({ close: () => app.close().then(() => storage.close()) });
    const c = new DirectoryClient({ url: `${url}/`, token: "admin" });
    const error = await c.createHost({ name: "web1", resourceGroup: "Bad Name" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirectoryHttpError);
    expect(error).toMatchObject({ code: "E_DIRECTORY_HTTP", status: 400, serverCode: "E_DIRECTORY_INVALID", field: "resourceGroup" });
    expect((error as Error).message).toMatch(new RegExp(`^POST ${url}/v1/hosts: HTTP 400: resourceGroup: `));
    expect(await c.health()).toEqual({ status: "ok", schemaVersion: 5 });
    await c.createResourceGroup({ name: "acme" });
    const { token } = await c.createHost({ name: "web1", resourceGroup: "acme" });
    const agent = new DirectoryClient({ url, token });
    const first = await agent.getConfig("web1");
    expect(first).toMatchObject({ status: 200, config: { host: { name: "web1" }, release: null } });
    expect(await agent.getConfig("web1", first.status === 200 ? first.etag : "")).toEqual({ status: 304 });
    await expect(agent.listHosts()).rejects.toMatchObject({ status: 403, serverCode: "E_DIRECTORY_FORBIDDEN" });
    expect(await c.metrics()).toContain("congruent_directory_hosts");
  });
});
