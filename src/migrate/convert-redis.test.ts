import { describe, expect, it } from "vitest";
import { convertRedis } from "./convert-redis.js";

const fact = (lines: string[]) => ({
  configFile: "/etc/redis/redis.conf",
  directives: lines.map((l, i) => {
    const [name, ...rest] = l.split(" ");
    return { name: name!, value: rest.join(" "), path: "/etc/redis/redis.conf", line: i + 1 };
  }),
});

describe("a legacy redis.conf's rename-command lines", () => {
  it("keeps the renames of customers' commands, each one, and leaves out CONFIG's, said as visible to clients", () => {
    const c = convertRedis(fact(["maxmemory 256mb", 'rename-command FLUSHALL ""', 'rename-command KEYS ""', 'rename-command CONFIG "CONFIG_b9f2"']));
    expect(c.snippets[0]!.text).toContain('rename-command FLUSHALL ""\nrename-command KEYS ""\n');
    expect(c.snippets[0]!.text).not.toContain("CONFIG_b9f2");
    expect(c.legacy.get("redis rename-command FLUSHALL")).toBe('FLUSHALL ""');
    expect(c.legacy.get("redis rename-command KEYS")).toBe('KEYS ""');
    expect(c.leftOut).toEqual([
      expect.objectContaining({ key: "rename-command", from: "/etc/redis/redis.conf:4", reason: expect.stringContaining("the platform sends CONFIG itself"), visible: 'clients can run CONFIG again (the legacy host renamed it to "CONFIG_b9f2")' }),
    ]);
  });
});
