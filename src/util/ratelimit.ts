/**
 * A per-client token bucket (`vitrine serve --rate N`): each client key
 * (the remote IP) may submit N requests per second on average, with bursts
 * up to N. Buckets idle long enough to be full again are forgotten, so
 * memory stays bounded by the number of recently active clients.
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  #lastSweep = 0;

  constructor(ratePerSecond: number, opts: { burst?: number; now?: () => number } = {}) {
    if (!(ratePerSecond > 0)) throw new RangeError('rate must be positive');
    this.#rate = ratePerSecond;
    this.#burst = opts.burst ?? Math.max(1, ratePerSecond);
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Takes one token for `client`. Returns 0 when allowed, else the seconds to wait. */
  take(client: string): number {
    const now = this.#now();
    this.#sweep(now);
    const b = this.#buckets.get(client) ?? { tokens: this.#burst, at: now };
    b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#rate);
    b.at = now;
    this.#buckets.set(client, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.#rate));
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < 10_000) return;
    this.#lastSweep = now;
    const fullAfter = (this.#burst / this.#rate) * 1000;
    for (const [k, b] of this.#buckets) if (now - b.at > fullAfter) this.#buckets.delete(k);
  }
}
