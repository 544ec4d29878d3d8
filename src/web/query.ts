import { CongruentError } from "../errors.js";
import { hostSorts, hostStatuses, type Comparison, type HostCondition, type HostSort } from "../directory/fleet-storage.js";

/**
 * The hosts list's query language: terms separated by spaces, all of which must hold.
 *   role:postgresql15  channel:stable  rg:acme  status:failed  result:timeout  name:web1
 *   cve>0  cve:CVE-2024-3094  release>=3  web        (a bare word: the name contains it)
 *   -channel:beta                                     (a leading '-' negates a term)
 * Statuses: ok, failed, deferred, stale, never. Comparisons (>, >=, <, <=, :) for release and cve.
 *
 * @example parseQuery("role:postgresql15 status:failed cve>0")
 *   // [{ field: "role", op: "eq", value: "postgresql15" }, { field: "status", … }, { field: "cve", op: "gt", value: 0 }]
 */
export function parseQuery(text: string): HostCondition[] {
  const out: HostCondition[] = [];
  for (const raw of text.trim().split(/\s+/).filter(Boolean)) {
    const negate = raw.startsWith("-") && raw.length > 1;
    const term = negate ? raw.slice(1) : raw;
    const m = /^([a-z]+)(:|>=|<=|>|<|=)(.+)$/.exec(term);
    if (!m) {
      out.push({ field: "name", op: "contains", value: term, negate });
      continue;
    }
    const [, key, sign, value] = m as unknown as [string, string, string, string];
    const op: Comparison = ({ ":": "eq", "=": "eq", ">": "gt", ">=": "ge", "<": "lt", "<=": "le" } as const)[sign as ":"];
    const textOnly = () => {
      if (op !== "eq") throw queryError(`${raw}: ${key} takes ${key}:VALUE, not a comparison`);
    };
    switch (key) {
      case "name":
      case "role":
      case "channel":
      case "rg":
      case "result":
        textOnly();
        out.push(key === "name" ? { field: "name", op: "eq", value, negate } : { field: key, op: "eq", value, negate });
        break;
      case "status":
        textOnly();
        if (!(hostStatuses as readonly string[]).includes(value)) throw queryError(`${raw}: status is one of ${hostStatuses.join(", ")}`);
        out.push({ field: "status", op: "eq", value, negate });
        break;
      case "cve":
      case "release": {
        if (key === "cve" && op === "eq" && /^CVE-\d{4}-\d+$/i.test(value)) {
          out.push({ field: "cveId", op: "eq", value: value.toUpperCase(), negate });
          break;
        }
        if (!/^\d+$/.test(value)) throw queryError(`${raw}: ${key} compares with a whole number${key === "cve" ? " (or cve:CVE-YYYY-NNNN)" : ""}`);
        out.push({ field: key, op, value: Number(value), negate });
        break;
      }
      default:
        throw queryError(`${raw}: unknown key "${key}" (known: name, role, channel, rg, status, result, release, cve)`);
    }
  }
  return out;
}

const queryError = (message: string) => new CongruentError("E_WEB_QUERY", message);

export interface HostView {
  q: string;
  sort: HostSort;
  desc: boolean;
  page: number;
  per: number;
}

export const PAGE_SIZES = [25, 50, 100, 500] as const;

/** The hosts list's view from its URL query (`?q=…&sort=…&desc=1&page=2&per=50`); what is not understood falls back to the default. */
export function viewFromQuery(query: Record<string, unknown>): HostView {
  const str = (k: string) => (typeof query[k] === "string" ? (query[k] as string) : "");
  const sort = (hostSorts as readonly string[]).includes(str("sort")) ? (str("sort") as HostSort) : "name";
  const per = PAGE_SIZES.find((n) => String(n) === str("per")) ?? 50;
  const page = Math.max(1, Math.min(1_000_000, Number.parseInt(str("page"), 10) || 1));
  return { q: str("q").slice(0, 500), sort, desc: str("desc") === "1", page, per };
}

/** The URL query of a view, defaults left out, so links stay short and the URL holds the whole view. */
export function viewQuery(v: HostView, change: Partial<HostView> = {}): string {
  const n = { ...v, ...change };
  const p = new URLSearchParams();
  if (n.q) p.set("q", n.q);
  if (n.sort !== "name") p.set("sort", n.sort);
  if (n.desc) p.set("desc", "1");
  if (n.page !== 1) p.set("page", String(n.page));
  if (n.per !== 50) p.set("per", String(n.per));
  const s = p.toString();
  return s ? `?${s}` : "";
}
