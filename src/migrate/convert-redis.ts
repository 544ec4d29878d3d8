import { components } from "../components/registry.js";
import { OWNED, renameProblem } from "../components/redis/index.js";
import { splitArgs } from "../components/redis/syntax.js";
import { at, type Conversion, type LeftOut, type Secret } from "./conversion.js";
import { readRedisFile } from "./redis-config.js";
import type { RedisFact, SettingFact } from "./types.js";
import { normalizeRedis } from "./units.js";

const SECRETS = new Set(["requirepass", "masterauth", "user"]);
// Directives that may repeat and all count (save points, modules); others: the last wins.
const ACCUMULATE = new Set(["save", "loadmodule"]);
const KEYED = new Set(["client-output-buffer-limit", "rename-command"]);

/**
 * Directives the platform's redis.conf sets from its settings table (port, bind), with the
 * value Redis itself uses when the legacy file says nothing: compared always, migrated
 * whenever they differ.
 */
export function redisPlatform(): Record<string, { platform: string; builtin: string }> {
  const s = components.get("redis")?.settings ?? {};
  const out: Record<string, { platform: string; builtin: string }> = {};
  // Without a bind line Redis listens on every interface.
  if (s.bind) out.bind = { platform: String(s.bind.default), builtin: "* -::*" };
  if (s.port) out.port = { platform: String(s.port.default), builtin: "6379" };
  return out;
}

function key(d: SettingFact): string {
  return KEYED.has(d.name) ? `redis ${d.name} ${d.value.split(" ")[0]}` : `redis ${d.name}`;
}

/** Normalised directive → value, repeated directives folded as Redis folds them. */
export function canonicalRedis(directives: SettingFact[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of directives) {
    const k = key(d);
    if (ACCUMULATE.has(d.name)) {
      // `save ""` clears the save points given before it.
      const prev = d.value === '""' ? [] : (out.get(k)?.split(" ; ").filter(Boolean) ?? []);
      out.set(k, [...prev, normalizeRedis(d.value)].filter((x) => x !== "" && x !== '""').join(" ; "));
    } else out.set(k, normalizeRedis(d.value));
  }
  return out;
}

/**
 * Turn the legacy redis.conf into the redis role and a `migrated.conf` snippet. Secrets
 * (requirepass, masterauth, ACL users) are named with their file and line, never copied:
 * the password belongs in `<state>/secrets/redis.password`, others under `<state>/secrets/redis/`.
 */
export function convertRedis(fact: RedisFact): Conversion {
  const leftOut: LeftOut[] = [];
  const secrets: Secret[] = [];
  const kept: SettingFact[] = [];
  for (const d of fact.directives) {
    if (SECRETS.has(d.name)) {
      const name = d.name === "user" ? `user ${d.value.split(" ")[0]}` : d.name;
      // requirepass is the one the redis component reads (<state>/secrets/redis.password).
      const carryTo = name === "requirepass" ? "<state>/secrets/redis.password" : `<state>/secrets/redis/${name.replace(" ", "-")}`;
      secrets.push({ component: "redis", name, from: at(d), carryTo });
      leftOut.push({ component: "redis", key: name, from: at(d), reason: `a secret: carried over into ${carryTo}, never into a snippet (value not shown)` });
    } else if (d.name === "rename-command" && renameProblem(splitArgs(d.value) ?? [])) {
      const args = splitArgs(d.value) ?? [];
      const [command, to] = args;
      const visible = `clients can run ${command?.toUpperCase()} again (the legacy host ${to ? `renamed it to ${JSON.stringify(to)}` : "disabled it"})`;
      leftOut.push({ component: "redis", key: d.name, value: d.value, from: at(d), reason: renameProblem(args)!, visible });
    } else if (d.name in OWNED) leftOut.push({ component: "redis", key: d.name, value: d.value, from: at(d), reason: `owned by the platform: ${OWNED[d.name]}${d.name === "dir" ? " (carry the legacy dump over)" : ""}` });
    else kept.push(d);
  }
  for (const [name, p] of Object.entries(redisPlatform())) {
    if (!kept.some((d) => d.name === name) && p.platform !== p.builtin) kept.unshift({ name, value: p.builtin, path: "Redis's default", line: 0 });
  }
  const lines = kept.map((d) => `${d.name} ${d.value === "" ? '""' : d.value}`); // values are already quoted as redis.conf needs
  const text = `# Settings of the legacy redis.conf, migrated by congruent migrate plan (${fact.configFile}).\n${lines.join("\n")}\n`;
  return {
    component: "redis",
    role: "redis",
    settings: {},
    snippets: lines.length ? [{ name: "migrated.conf", text, from: fact.configFile ? [fact.configFile] : [] }] : [],
    leftOut,
    secrets,
    legacy: canonicalRedis(kept),
  };
}

export { readRedisFile };
