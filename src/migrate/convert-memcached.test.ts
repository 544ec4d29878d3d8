import { describe, expect, it } from "vitest";
import { convertMemcached } from "./convert-memcached.js";

const confd = (vars: Record<string, string>) => ({ confd: "/etc/conf.d/memcached", variables: vars });

describe("a legacy memcached's conf.d, MISC_OPTS included", () => {
  it("reads MISC_OPTS as memcached reads its argv: after the variables, the later option winning, every form", () => {
    const c = convertMemcached(confd({ MEMUSAGE: "256", MAXCONN: "1024", LISTENON: "127.0.0.1", PORT: "11211", THREADS: "4", MISC_OPTS: "-c 2048 -R40 --max-item-size=2M -o modern -C -M -vv" }));
    expect(JSON.parse(c.snippets[0]!.text)).toEqual({ memory: 256, connections: 2048, port: 11211, listen: "127.0.0.1", threads: 4, max_item_size: "2m", reqs_per_event: 40, cas: false, evictions: false, verbosity: 2 });
    expect(c.blockers ?? []).toEqual([]);
    expect(c.leftOut).toEqual([]);
  });

  it("names what memcached.json cannot say as blockers (an option, UDP), and what the platform owns as left out", () => {
    const c = convertMemcached(confd({ MEMUSAGE: "64", UDPPORT: "11211", SOCKET: "/run/memcached.sock", MISC_OPTS: "-f 1.5 -L" }));
    expect((c.blockers ?? []).map((b) => [b.subject, b.detail])).toEqual([
      ["memcached -f", "-f 1.5 (/etc/conf.d/memcached): memcached.json has no field for this option"],
      ["memcached -L", "-L (/etc/conf.d/memcached): memcached.json has no field for this option"],
      ["memcached UDP", expect.stringMatching(/^UDP port 11211 \(\/etc\/conf\.d\/memcached\): the platform keeps memcached's UDP off/)],
    ]);
    expect(c.leftOut.map((l) => l.key)).toEqual(["SOCKET=/run/memcached.sock"]);
  });
});
