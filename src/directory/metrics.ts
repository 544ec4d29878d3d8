import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Storage } from "./storage.js";

const RESULTS = ["none", "switched", "unchanged", "deferred", "failed", "timeout", "stale"];
const STATES = ["none", "canary", "complete", "halted"];

/**
 * The directory's Prometheus metrics, in a registry of its own (several directories in one
 * process, as in tests, do not collide). Labels stay bounded: by result, route, channel and
 * state, never by host. Fleet gauges are refreshed from storage at each scrape.
 *
 * @example const m = createMetrics(storage); await m.refresh(); const text = await m.registry.metrics();
 */
export function createMetrics(storage: Storage, now: () => Date = () => new Date()) {
  const registry = new Registry();
  const hosts = new Gauge({ name: "congruent_directory_hosts", help: "Hosts by the result of their last report (none: never reported)", labelNames: ["result"], registers: [registry] });
  const oldest = new Gauge({
    name: "congruent_directory_oldest_report_age_seconds",
    help: "Age of the oldest last report among hosts whose last report has this result",
    labelNames: ["result"],
    registers: [registry],
  });
  const age = new Histogram({
    name: "congruent_directory_report_age_seconds",
    help: "Age of each host's last report, at scrape time",
    buckets: [60, 300, 600, 1200, 1800, 3600, 3 * 3600, 6 * 3600, 86_400, 7 * 86_400],
    registers: [registry],
  });
  const rollout = new Gauge({ name: "congruent_directory_rollout_state", help: "1 for the state of each channel's rollout (none: no rollout)", labelNames: ["channel", "state"], registers: [registry] });
  const release = new Gauge({ name: "congruent_directory_channel_release", help: "The channel's current and previous release numbers", labelNames: ["channel", "which"], registers: [registry] });
  const exposure = new Gauge({
    name: "congruent_directory_vulnerabilities",
    help: "Known vulnerabilities in the hosts' active generations, summed over the fleet (open: not whitelisted), from each host's latest vulnscan counts",
    labelNames: ["kind"],
    registers: [registry],
  });
  const exposed = new Gauge({ name: "congruent_directory_hosts_vulnerable", help: "Hosts whose latest vulnscan counts have open findings", registers: [registry] });
  const reports = new Counter({ name: "congruent_directory_reports_total", help: "Reports received, by result", labelNames: ["result"], registers: [registry] });
  const refused = new Counter({ name: "congruent_directory_reports_rate_limited_total", help: "Reports refused (429) because their host sent faster than its rate", registers: [registry] });
  const latency = new Histogram({
    name: "congruent_directory_http_request_duration_seconds",
    help: "Request latency by route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  async function refresh(): Promise<void> {
    const [states, channels] = await Promise.all([storage.listHostStates(), storage.listChannels()]);
    const t = now().getTime();
    const counts = new Map(RESULTS.map((r) => [r, 0]));
    const oldestByResult = new Map<string, number>();
    age.reset();
    for (const s of states) {
      const result = s.lastResult ?? "none";
      counts.set(result, (counts.get(result) ?? 0) + 1);
      if (s.lastReportAt) {
        const seconds = Math.max(0, (t - Date.parse(s.lastReportAt)) / 1000);
        age.observe(seconds);
        oldestByResult.set(result, Math.max(oldestByResult.get(result) ?? 0, seconds));
      }
    }
    hosts.reset();
    for (const [result, n] of counts) hosts.set({ result }, n);
    const known = states.flatMap((s) => (s.lastVulnerabilities ? [s.lastVulnerabilities] : []));
    exposure.set({ kind: "open" }, known.reduce((n, v) => n + v.total, 0));
    exposure.set({ kind: "whitelisted" }, known.reduce((n, v) => n + v.whitelisted, 0));
    exposed.set(known.filter((v) => v.total > 0).length);
    oldest.reset();
    for (const [result, seconds] of oldestByResult) oldest.set({ result }, seconds);
    rollout.reset();
    release.reset();
    for (const c of channels) {
      const state = c.rollout?.state ?? "none";
      for (const s of STATES) rollout.set({ channel: c.name, state: s }, s === state ? 1 : 0);
      if (c.current !== null) release.set({ channel: c.name, which: "current" }, c.current);
      if (c.previous !== null) release.set({ channel: c.name, which: "previous" }, c.previous);
    }
  }

  return {
    registry,
    refresh,
    countReport: (result: string) => reports.inc({ result }),
    countRefusedReport: () => refused.inc(),
    observe: (method: string, route: string, status: number, seconds: number) => latency.observe({ method, route, status: String(status) }, seconds),
  };
}

export type DirectoryMetrics = ReturnType<typeof createMetrics>;
