import type { LegacyRoot } from "./legacy-root.js";
import type { Problem, RedisFact, SettingFact } from "./types.js";
import { readConfd } from "./openrc.js";

/**
 * Split a redis.conf line into words as Redis does: blanks separate, double quotes allow
 * escapes (\n, \xHH, \"), single quotes are literal.
 */
export function redisWords(line: string): string[] | Error {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length) break;
    let word = "";
    const q = line[i];
    if (q === '"' || q === "'") {
      i++;
      while (i < line.length && line[i] !== q) {
        if (q === '"' && line[i] === "\\" && i + 1 < line.length) {
          const e = line[++i]!;
          if (e === "x" && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 1, i + 3))) {
            word += String.fromCharCode(parseInt(line.slice(i + 1, i + 3), 16));
            i += 2;
          } else word += ({ n: "\n", r: "\r", t: "\t", b: "\b", a: "\x07" } as Record<string, string>)[e] ?? e;
        } else word += line[i];
        i++;
      }
      if (i >= line.length) return new Error("unbalanced quotes in configuration line");
      i++;
      if (i < line.length && !/\s/.test(line[i]!)) return new Error("closing quote must be followed by a space or nothing at all");
    } else {
      while (i < line.length && !/\s/.test(line[i]!)) word += line[i++];
    }
    words.push(word);
  }
  return words;
}

/** A word as redis.conf needs it written: bare when it can be, else double-quoted with escapes. */
export function redisQuote(word: string): string {
  if (word !== "" && !/[\s"'\\]/.test(word) && !/[^\x21-\x7e]/.test(word)) return word;
  return `"${[...word].map((c) => (c === '"' || c === "\\" ? `\\${c}` : c === "\n" ? "\\n" : c === "\r" ? "\\r" : c === "\t" ? "\\t" : c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}` : c)).join("")}"`;
}

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
    const words = redisWords(line);
    if (words instanceof Error) {
      problems.push({ path: file, line: i + 1, message: words.message });
      return;
    }
    const [name, ...args] = words;
    out.push({ name: name!.toLowerCase(), value: args.map(redisQuote).join(" "), path: file, line: i + 1 });
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
