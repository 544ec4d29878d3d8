import { describe, expect, it } from "vitest";
import { parseNginx } from "../../components/nginx/syntax.js";
import { upstreams, volatileNames } from "./upstreams.js";

const targetsOf = (text: string) => {
  const { nodes, error } = parseNginx(text, "site.conf");
  if (error) throw new Error(error.message);
  return upstreams(nodes.filter((n) => n.name !== "server"), nodes.filter((n) => n.name === "server")).targets;
};

describe("the upstreams a configuration passes to", () => {
  it("an http upstream on a Unix socket is a socket stub, with or without a URI after it", () => {
    expect(targetsOf("server { location @app { proxy_pass http://unix:/var/www/shop/run/app.sock; } }")).toEqual([{ kind: "http", socket: "/var/www/shop/run/app.sock" }]);
    expect(targetsOf("server { location / { proxy_pass http://unix:/run/api.sock:/v1/; } }")).toEqual([{ kind: "http", socket: "/run/api.sock" }]);
  });

  it("TCP upstreams, named directly or through an upstream block, with their default ports", () => {
    const text = "upstream app { server 127.0.0.1:5000; server unix:/run/b.sock; } server { location / { proxy_pass http://app; } location ~ \\.php$ { fastcgi_pass 127.0.0.1; } }";
    expect(targetsOf(text)).toEqual([
      { kind: "http", host: "127.0.0.1", port: 5000 },
      { kind: "http", socket: "/run/b.sock" },
      { kind: "fastcgi", host: "127.0.0.1", port: 9000 },
    ]);
  });
});

describe("what differs on every answer", () => {
  it("the cookie of ngx_http_userid_module (userid on): compared by presence only", () => {
    const { nodes } = parseNginx("server { userid on; userid_name uid; add_header X-Id $request_id; location / { proxy_set_header X-Start $msec; proxy_pass http://127.0.0.1:8000; } }", "site.conf");
    expect(volatileNames([], nodes)).toEqual({ upstream: ["x-start"], response: ["set-cookie", "x-id"] });
    expect(volatileNames([], parseNginx("server { userid off; }", "site.conf").nodes).response).toEqual([]);
  });
});
