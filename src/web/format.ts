import type { HostStatus } from "../directory/fleet-storage.js";

/**
 * What templates use to show values. Every status has an icon and a word (never colour
 * alone); icons are decorative (`aria-hidden`), the word is what a screen reader says.
 */
export const STATUS: Record<HostStatus, { icon: string; label: string; title: string }> = {
  ok: { icon: "✔", label: "ok", title: "the last run switched or found nothing to change" },
  failed: { icon: "✖", label: "failed", title: "the last run failed, timed out or refused a stale input" },
  deferred: { icon: "‖", label: "deferred", title: "a restart waits for the maintenance window" },
  stale: { icon: "◷", label: "stale", title: "no report for longer than the agent's interval plus a grace" },
  never: { icon: "○", label: "never reported", title: "the agent has not reported yet" },
};

/** A single run's result, as its status class. */
export function resultStatus(result: string): HostStatus {
  if (result === "switched" || result === "unchanged") return "ok";
  if (result === "deferred") return "deferred";
  return "failed";
}

const MINUTE = 60_000;

/** "3 min ago", "2 h ago", "5 d ago"; "in 4 h" for the future. */
export function relative(iso: string | null | undefined, now: Date): string {
  if (!iso) return "never";
  const ms = now.getTime() - Date.parse(iso);
  const abs = Math.abs(ms);
  const text = abs < MINUTE ? "less than a minute" : abs < 60 * MINUTE ? `${Math.round(abs / MINUTE)} min` : abs < 48 * 60 * MINUTE ? `${Math.round(abs / (60 * MINUTE))} h` : `${Math.round(abs / (24 * 60 * MINUTE))} d`;
  return ms >= 0 ? `${text} ago` : `in ${text}`;
}

/** `2026-12-01 11:54 UTC`. */
export const utc = (iso: string | null | undefined) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : "–");

/** The last 12 characters of a store path's hash part, enough to tell generations apart. */
export const shortGeneration = (path: string | null | undefined) => (path ? (/([0-9a-z]{32})-[^/]*$/.exec(path)?.[1]?.slice(0, 12) ?? path.slice(-12)) : "–");

export const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

export const percent = (share: number) => `${Math.round(share * 100)} %`;

export const bytes = (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(1)} GiB`);
