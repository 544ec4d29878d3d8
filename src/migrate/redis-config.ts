import type { LegacyRoot } from "./legacy-root.js";
import type { Problem, RedisFact, SettingFact } from "./types.js";
import { readConfd } from "./openrc.js";
import { quoteArg, splitArgs } from "../components/redis/syntax.js";

/** Directives of a redis.conf and the files it includes; `value` is the rest of the line's words joined by one space. */
export function readRedisFile(root: LegacyRoot, file: string, problems: Problem[], depth = 0): SettingFact[] {
  const text = root.read(file);
  if (text === undefined) {
    problems.push({ path: file, message: "cannot be read" });
    return [];
  }
  const out: SettingFact[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    // Read with the redis component's own tokenizer: what redis-server accepts, migrate accepts.
    const words = splitArgs(line);
    if (!words) {
      problems.push({ path: file, line: i + 1, message: "unbalanced quotes in configuration line" });
      return;
    }
    const [name, ...args] = words;
    out.push({ name: name!.toLowerCase(), value: args.map(quoteArg).join(" "), path: file, line: i + 1 });
    if (name!.toLowerCase() === "include" && args[0] && depth < 10) out.push(...readRedisFile(root, args[0], problems, depth + 1));
  });
  return out;
}

/** The legacy Redis configuration: REDIS_CONF from /etc/conf.d/redis, else /etc/redis/redis.conf, else /etc/redis.conf. */
export function readRedis(root: LegacyRoot, installed: boolean): { redis: RedisFact | null; problems: Problem[] } {
  const problems: Problem[] = [];
  if (!installed) return { redis: null, problems };
  const confd = readConfd(root, "redis");
  const candidates = [confd?.vars.REDIS_CONF, "/etc/redis/redis.conf", "/etc/redis.conf"].filter((x): x is string => Boolean(x));
  const configFile = candidates.find((f) => root.exists(f)) ?? null;
  return { redis: { configFile, directives: configFile ? readRedisFile(root, configFile, problems) : [] }, problems };
}
