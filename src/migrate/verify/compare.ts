import { endpointKey, type Probe } from "./requests.js";
import type { Answer } from "./runner.js";

/** One way the migrated host answers differently from the legacy one. */
export interface BehaviourDifference {
  component: string;
  /** `GET https://shop.example.com/path (127.0.0.1:443)`, or a setting's name. */
  subject: string;
  /** `status`, `header location`, `body`, `setting`, `start`… */
  field: string;
  legacy: string | null;
  congruent: string | null;
}

// Headers that differ between any two answers of one server: when it answered.
const TIMELY = new Set(["date"]);

/** `Expires` in seconds after `Date`, so two answers a moment apart compare equal. */
function relativeExpires(h: Record<string, string>): number | string | undefined {
  const e = h.expires;
  if (e === undefined) return undefined;
  const d = Date.parse(h.date ?? "");
  const x = Date.parse(e);
  return Number.isNaN(d) || Number.isNaN(x) ? e : Math.round((x - d) / 1000);
}

/**
 * The same date (`expires max`, `expires @15h`), or the same time after each answer's Date within
 * two seconds (`expires 30d`: the two hosts answer seconds apart).
 */
function sameExpires(a: Record<string, string>, b: Record<string, string>): boolean {
  if (a.expires === b.expires) return true;
  const [x, y] = [relativeExpires(a), relativeExpires(b)];
  return x === y || (typeof x === "number" && typeof y === "number" && Math.abs(x - y) <= 2);
}

const showExpires = (x: number | string | undefined) => (typeof x === "number" ? `Date + ${x} s` : x);

const describeProbe = (p: Probe) => `${p.method} ${p.endpoint.tls ? "https" : "http"}://${p.name}${p.path}${p.headers.upgrade ? " (Upgrade: websocket)" : ""} → ${endpointKey(p.endpoint)}`;

/** Every difference between the two hosts' answers to the same requests. */
export function compareAnswers(probes: Probe[], legacy: Answer[], congruent: Answer[], volatileHeaders: ReadonlySet<string> = new Set()): BehaviourDifference[] {
  const out: BehaviourDifference[] = [];
  probes.forEach((p, i) => {
    const a = legacy[i];
    const b = congruent[i];
    const subject = describeProbe(p);
    const diff = (field: string, x: string | undefined, y: string | undefined) => {
      if ((x ?? null) !== (y ?? null)) out.push({ component: "nginx", subject, field, legacy: x ?? null, congruent: y ?? null });
    };
    if (!a || !b) {
      diff("answer", a ? "answered" : undefined, b ? "answered" : undefined);
      return;
    }
    if (a.error || b.error) {
      diff("connection", a.error ?? "answered", b.error ?? "answered");
      return;
    }
    diff("status", String(a.status), String(b.status));
    const names = [...new Set([...Object.keys(a.headers), ...Object.keys(b.headers)])].sort();
    for (const h of names) {
      if (TIMELY.has(h)) continue;
      // Filled per request ($request_id…): there or not is what can be compared.
      if (volatileHeaders.has(h)) diff(`header ${h}`, a.headers[h] === undefined ? undefined : "(set)", b.headers[h] === undefined ? undefined : "(set)");
      else if (h !== "expires") diff(`header ${h}`, a.headers[h], b.headers[h]);
      else if (!sameExpires(a.headers, b.headers)) diff("header expires", showExpires(relativeExpires(a.headers)), showExpires(relativeExpires(b.headers)));
    }
    if (p.dynamic && a.bodyBytes && b.bodyBytes) return; // a status page's counters: its headers and status count
    if (a.bodySha256 !== b.bodySha256) out.push({ component: "nginx", subject, field: "body", legacy: preview(a), congruent: preview(b) });
    diff("tls certificate", a.tlsCertificate, b.tlsCertificate);
  });
  return out;
}

const preview = (a: Answer) => `${a.bodyBytes} bytes: ${JSON.stringify(a.body.slice(0, 160))}`;

/** Settings that differ between two servers of one component, except those `skip` names. */
export function compareSettings(component: string, legacy: Record<string, string> | undefined, congruent: Record<string, string> | undefined, skip: ReadonlySet<string>): { compared: number; differences: BehaviourDifference[] } {
  if (!legacy || !congruent) return { compared: 0, differences: [{ component, subject: "settings", field: "settings", legacy: legacy ? "read" : "could not be read", congruent: congruent ? "read" : "could not be read" }] };
  const names = [...new Set([...Object.keys(legacy), ...Object.keys(congruent)])].filter((n) => !skip.has(n)).sort();
  const differences = names.filter((n) => legacy[n] !== congruent[n]).map((n) => ({ component, subject: n, field: "setting", legacy: legacy[n] ?? null, congruent: congruent[n] ?? null }));
  return { compared: names.length, differences };
}
