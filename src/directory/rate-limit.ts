/** How fast one host may send reports: `burst` at once, then `perMinute` on average. */
export interface ReportRate {
  burst: number;
  perMinute: number;
}

/**
 * An agent sends one report per run (every 10 minutes on its timer) and, after an outage, what
 * waited in its outbox: 30 at once and 6 a minute leave that room and stop a flood within a
 * second (one host's 400 reports in 2 s are 30 stored, 370 refused with 429).
 */
export const defaultReportRate: ReportRate = { burst: 30, perMinute: 6 };

/**
 * A token bucket per key (host name), in this process: several directories sharing one
 * database each allow the rate. Full buckets are forgotten, so memory stays bounded by the
 * hosts that sent recently.
 *
 * @example const limit = new RateLimiter(defaultReportRate); const wait = limit.take("web1"); // undefined: allowed
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private takes = 0;

  constructor(
    private readonly rate: ReportRate,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `key`: undefined when allowed, else the seconds until a token is there. */
  take(key: string): number | undefined {
    const t = this.now();
    if (++this.takes % 1000 === 0) this.forgetFull(t);
    const b = this.buckets.get(key) ?? { tokens: this.rate.burst, at: t };
    b.tokens = Math.min(this.rate.burst, b.tokens + ((t - b.at) / 60_000) * this.rate.perMinute);
    b.at = t;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return Math.ceil(((1 - b.tokens) * 60) / this.rate.perMinute);
  }

  private forgetFull(t: number): void {
    for (const [key, b] of this.buckets) if (b.tokens + ((t - b.at) / 60_000) * this.rate.perMinute >= this.rate.burst) this.buckets.delete(key);
  }
}
