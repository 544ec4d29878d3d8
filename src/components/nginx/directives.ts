import { spawnSync } from "node:child_process";
import { rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { scratchDir } from "../../generation/scratch.js";
import { nginxBinary } from "./binary.js";

/**
 * Which directive names the installed nginx has no module for: asked of nginx itself, one name
 * a run (`nginx -t` of `events {} NAME;` says `unknown directive` only when no compiled-in
 * module defines it; a known one is "not allowed here"), about 3 ms each. So a configuration
 * written for another build (Passenger, headers-more, brotli, lua) is found before a build,
 * by the binary that will run it, not by a list that goes stale. Memoised per binary.
 *
 * @example unknownDirectives(["root", "passenger_enabled"]) // ["passenger_enabled"]
 */
export function unknownDirectives(names: Iterable<string>): string[] {
  let binary: string;
  try {
    binary = nginxBinary();
  } catch {
    return []; // no nginx here: the build says what is missing
  }
  const st = statSync(binary);
  const key = `${binary}:${st.size}:${st.mtimeMs}`;
  const known = (memo.get(key) ?? memo.set(key, new Map()).get(key))!;
  const all = [...new Set(names)];
  const ask = all.filter((n) => NAME.test(n) && !known.has(n));
  if (ask.length) {
    const dir = scratchDir("nginx-directives-");
    try {
      const conf = path.join(dir, "probe.conf");
      for (const name of ask) {
        writeFileSync(conf, `events {}\n${name};\n`);
        const run = spawnSync(binary, ["-t", "-q", "-p", `${dir}/`, "-c", conf, "-e", "stderr"], { encoding: "utf8" });
        known.set(name, !(run.stderr ?? "").includes(`unknown directive "${name}"`));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return all.filter((n) => known.get(n) === false);
}

const NAME = /^[a-z_][a-z0-9_]*$/;
const memo = new Map<string, Map<string, boolean>>();
