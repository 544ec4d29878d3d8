/**
 * Normalise configuration values so that two spellings of one value compare equal:
 * PostgreSQL's `16MB` and `16384kB`, `'on'` and `true`; nginx's `1m` and `1024k`; Redis's
 * `256mb` and `268435456`.
 */

const PG_MEMORY: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const PG_TIME: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };
const PG_BOOL: Record<string, string> = { on: "on", off: "off", true: "on", false: "off", yes: "on", no: "off", t: "on", f: "off", y: "on", n: "off" };

/** A PostgreSQL value as the server would read it: memory in bytes, time in ms, booleans on/off. */
export function normalizePg(value: string, type?: string): string {
  const v = value.trim();
  const m = /^(-?\d+(?:\.\d+)?)\s*(B|kB|MB|GB|TB|us|ms|s|min|h|d)$/.exec(v);
  if (m) {
    const n = Number(m[1]);
    const unit = m[2]!;
    return unit in PG_MEMORY ? `${n * PG_MEMORY[unit]!}B` : `${n * PG_TIME[unit]!}ms`;
  }
  const lower = v.toLowerCase();
  if (type === "BOOLEAN" || (type === undefined && lower in PG_BOOL && !/^\d$/.test(lower))) {
    if (lower in PG_BOOL) return PG_BOOL[lower]!;
    if (lower === "1") return "on";
    if (lower === "0") return "off";
  }
  if (type === "ENUM" || type === "BOOLEAN") return lower;
  if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v)) return String(Number(v));
  return v;
}

/** An nginx size (`1m`, `1024k`, `1048576`) in bytes; other values unchanged. */
export function normalizeNginxSize(value: string): string {
  const m = /^(\d+)([kKmMgG]?)$/.exec(value.trim());
  if (!m) return value;
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase()]!;
  return String(Number(m[1]) * mult);
}

/** An nginx time (`75s`, `1m`, `75`) in seconds when it is whole seconds; other values unchanged. */
export function nginxSeconds(value: string): number | undefined {
  let total = 0;
  const re = /(\d+)(ms|s|m|h|d|w|M|y)?/g;
  const v = value.trim();
  if (!/^(\d+(ms|s|m|h|d|w|M|y)?)+$/.test(v)) return undefined;
  for (const m of v.matchAll(re)) {
    const mult = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, M: 2592000, y: 31536000 }[m[2] ?? "s"]!;
    total += Number(m[1]) * mult;
  }
  return Number.isInteger(total) ? total : undefined;
}

/** A Redis value: memory units (1k = 1000, 1kb = 1024 …) in bytes, yes/no lower-cased. */
export function normalizeRedis(value: string): string {
  return value
    .trim()
    .split(/\s+/)
    .map((w) => {
      const m = /^(\d+)(k|kb|m|mb|g|gb)$/i.exec(w);
      if (m) {
        const mult = { k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 }[m[2]!.toLowerCase() as "k"]!;
        return String(Number(m[1]) * mult);
      }
      return /^(yes|no)$/i.test(w) ? w.toLowerCase() : w;
    })
    .join(" ");
}
