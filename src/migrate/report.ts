import { readdirSync } from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { readInventory } from "./inventory.js";
import type { Blocker, Inventory, Problem } from "./types.js";

export interface HostRow {
  host: string;
  file: string;
  items: number;
  /** Shares of items, 0–1: green (congruent), yellow (convergent), red (divergent). */
  green: number;
  yellow: number;
  red: number;
  dataBytes: number;
  blockers: number;
  /** The subjects of this host's blockers, e.g. `dev-lang/php`. */
  blockedBy: string[];
  ready: boolean;
  /** Position in the suggested migration order (1 = first). */
  order: number;
  /** Why it is where it is in that order. */
  why: string;
}

export interface FleetReport {
  generatedAt: string;
  hosts: HostRow[];
  /** Blockers by how many hosts they hold back, most first. */
  topBlockers: { kind: Blocker["kind"]; subject: string; hosts: number; examples: string[] }[];
  totals: { hosts: number; ready: number; items: number; green: number; yellow: number; red: number; dataBytes: number };
  /** Inventory files that could not be read, with the reason; the rest is reported. */
  problems: Problem[];
}

/**
 * The fleet view: every inventory in a directory (`*.json`), per host its green/yellow/red
 * shares and readiness, the blockers that hold back most hosts, and an order to migrate in:
 * ready hosts first (greenest and least data first: cheapest to prove the platform on),
 * then the rest by how few blockers stand in the way.
 *
 * @example const r = await fleetReport("inventories/"); r.hosts[0].host // migrate this one first
 */
export async function fleetReport(dir: string): Promise<FleetReport> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".json")).sort();
  } catch (error) {
    throw new CongruentError("E_MIGRATE_INVENTORY", `${dir}: cannot read the inventories directory: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const inventories: { file: string; inv: Inventory }[] = [];
  const problems: Problem[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      inventories.push({ file, inv: await readInventory(file) });
    } catch (error) {
      problems.push({ path: file, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return buildReport(inventories, problems);
}

/**
 * The report from inventories already read: only their host, summary and blockers count, so
 * the directory can build it from what it keeps in brief.
 */
export function buildReport(inventories: { file: string; inv: Pick<Inventory, "host" | "summary" | "blockers"> }[], problems: Problem[] = []): FleetReport {
  const rows: HostRow[] = inventories.map(({ file, inv }) => {
    const s = inv.summary;
    const total = Math.max(1, s.items);
    return {
      host: inv.host,
      file,
      items: s.items,
      green: s.congruent / total,
      yellow: s.convergent / total,
      red: s.divergent / total,
      dataBytes: s.dataBytes,
      blockers: inv.blockers.length,
      blockedBy: [...new Set(inv.blockers.map((b) => b.subject))],
      ready: inv.blockers.length === 0,
      order: 0,
      why: "",
    };
  });
  rows.sort((a, b) => Number(b.ready) - Number(a.ready) || a.blockers - b.blockers || b.green - a.green || a.dataBytes - b.dataBytes || a.host.localeCompare(b.host));
  rows.forEach((r, i) => {
    r.order = i + 1;
    r.why = r.ready
      ? `ready: no blockers; ${pct(r.green)} congruent, ${bytes(r.dataBytes)} of data to carry`
      : `${r.blockers} blocker${r.blockers === 1 ? "" : "s"} (${r.blockedBy.slice(0, 3).join("; ")}${r.blockedBy.length > 3 ? "; …" : ""})`;
  });

  const byBlocker = new Map<string, { kind: Blocker["kind"]; subject: string; hosts: Set<string> }>();
  for (const { inv } of inventories) {
    for (const b of inv.blockers) {
      const key = `${b.kind}\0${b.subject}`;
      const e = byBlocker.get(key) ?? { kind: b.kind, subject: b.subject, hosts: new Set<string>() };
      e.hosts.add(inv.host);
      byBlocker.set(key, e);
    }
  }
  const topBlockers = [...byBlocker.values()]
    .map((e) => ({ kind: e.kind, subject: e.subject, hosts: e.hosts.size, examples: [...e.hosts].sort().slice(0, 5) }))
    .sort((a, b) => b.hosts - a.hosts || a.subject.localeCompare(b.subject));

  const sum = (f: (r: HostRow) => number) => rows.reduce((s, r) => s + f(r), 0);
  const items = sum((r) => r.items);
  return {
    generatedAt: new Date().toISOString(),
    hosts: rows,
    topBlockers,
    totals: {
      hosts: rows.length,
      ready: rows.filter((r) => r.ready).length,
      items,
      green: items ? sum((r) => r.green * r.items) / items : 0,
      yellow: items ? sum((r) => r.yellow * r.items) / items : 0,
      red: items ? sum((r) => r.red * r.items) / items : 0,
      dataBytes: sum((r) => r.dataBytes),
    },
    problems,
  };
}

export const pct = (x: number) => `${Math.round(x * 100)}%`;

/** 130453 → "127.4 KiB". */
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** The report for people, on a terminal. */
export function reportText(r: FleetReport): string {
  const lines = [
    `${r.totals.hosts} host${r.totals.hosts === 1 ? "" : "s"}, ${r.totals.ready} ready; items ${pct(r.totals.green)} congruent, ${pct(r.totals.yellow)} convergent, ${pct(r.totals.red)} divergent; ${bytes(r.totals.dataBytes)} of data to carry over`,
    "",
    "order  host                      green yellow   red  data        blockers",
    ...r.hosts.map(
      (h) =>
        `${String(h.order).padStart(5)}  ${h.host.padEnd(24).slice(0, 24)}  ${pct(h.green).padStart(4)}   ${pct(h.yellow).padStart(4)}  ${pct(h.red).padStart(4)}  ${bytes(h.dataBytes).padEnd(10)}  ${h.ready ? "ready" : h.why}`,
    ),
  ];
  if (r.topBlockers.length) {
    lines.push("", "most common blockers:");
    for (const b of r.topBlockers.slice(0, 10)) lines.push(`  ${String(b.hosts).padStart(4)} host${b.hosts === 1 ? " " : "s"}  ${b.kind.padEnd(18)} ${b.subject}`);
  }
  const first = r.hosts.filter((h) => h.ready).slice(0, 5);
  lines.push("", first.length ? `migrate first: ${first.map((h) => h.host).join(", ")}` : `no host is ready; the blocker holding back most hosts: ${r.topBlockers[0]?.subject ?? "none"}`);
  for (const p of r.problems) lines.push(`problem: ${p.path}: ${p.message}`);
  return lines.join("\n");
}
