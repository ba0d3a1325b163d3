/**
 * Which node sequences, when several `vitrine serve` processes share one
 * PostgreSQL database (issue 10 §3, docs/operations.md "Running several
 * nodes on PostgreSQL").
 *
 * Leadership is a lease row in the database (storage/postgres.ts) with a
 * fencing epoch that grows by one at every change of holder. Two guards
 * keep a node that lost the lease from writing:
 *
 * - in the database: every commit transaction locks the lease row and
 *   checks it still carries this node's epoch and is live by the database's
 *   clock, so a commit of an old epoch can never land;
 * - in the process: `canSign()` is false once the local monotonic clock
 *   passes the end of the lease as last renewed (measured from when the
 *   renewal was SENT, so it ends no later than the database's expiry). A
 *   process paused by SIGSTOP, a GC pause or a network stall wakes up with
 *   `canSign()` false and signs nothing, whatever its timers do first.
 *
 * The node renews every `leaseMs / 6`, so a few slow round trips do not
 * cost it the lease; a follower tries to take a lapsed lease on the same
 * tick, so failover after the sequencer dies takes at most about
 * `leaseMs + leaseMs / 6` plus the new sequencer's start-up.
 */

/** The lease operations of a shared store (PostgresStorage implements them). */
export interface LeaseStore {
  acquireLease(holder: string, url: string, ms: number): Promise<number | undefined>;
  renewLease(epoch: number, ms: number): Promise<boolean>;
  releaseLease(epoch: number): Promise<void>;
  fence(epoch: number | undefined): void;
}

export interface LeadershipOptions {
  store: LeaseStore;
  /** This node's name in the lease row (unique per process). */
  holder: string;
  /** Where other nodes forward submissions to this one while it sequences. */
  url: string;
  /** Lease length in milliseconds (`--lease-ms`, default 3000). */
  leaseMs: number;
  /** Called when this node took the lease; sequencing may start. A rejection gives the lease back. */
  onElected: (epoch: number) => Promise<void>;
  /** Called when this node lost or gave up the lease; sequencing must stop. */
  onDeposed: (epoch: number) => Promise<void>;
  onError?: (err: unknown) => void;
  /** The monotonic clock (tests may replace it). */
  now?: () => number;
}

export class Leadership {
  readonly #o: LeadershipOptions;
  readonly #now: () => number;
  #epoch: number | undefined;
  /** Local monotonic time at which the lease, as last renewed, ends at the latest. */
  #validUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #stopped = false;

  constructor(o: LeadershipOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => performance.now());
  }

  /** The epoch this node holds, if it sequences. */
  get epoch(): number | undefined {
    return this.#epoch;
  }

  /** True while this node holds a lease that has not run out by its own clock: it may sign. */
  canSign(): boolean {
    return this.#epoch !== undefined && this.#now() < this.#validUntil;
  }

  /** Starts the renew/acquire loop; the first attempt runs at once. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.#o.leaseMs / 6)));
    this.#timer.unref();
    void this.tick();
  }

  /** One round: renew the lease this node holds, or try to take a lapsed one. Never overlaps itself. */
  tick(): Promise<void> {
    this.#ticking ??= this.#round().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #round(): Promise<void> {
    if (this.#stopped) return;
    const { store, leaseMs } = this.#o;
    const sent = this.#now();
    try {
      if (this.#epoch !== undefined) {
        // Woken past the lease (SIGSTOP, a long pause): stop before anything else runs.
        if (sent >= this.#validUntil) return await this.#depose();
        if (await store.renewLease(this.#epoch, leaseMs)) this.#validUntil = sent + leaseMs;
        else await this.#depose();
        return;
      }
      const epoch = await store.acquireLease(this.#o.holder, this.#o.url, leaseMs);
      if (epoch === undefined || this.#stopped) return;
      this.#epoch = epoch;
      this.#validUntil = sent + leaseMs;
      store.fence(epoch);
      try {
        await this.#o.onElected(epoch);
      } catch (err) {
        this.#o.onError?.(err);
        await this.#depose(true);
      }
    } catch (err) {
      this.#o.onError?.(err);
      // The database cannot be reached: once the lease ran out locally, stop sequencing.
      if (this.#epoch !== undefined && this.#now() >= this.#validUntil) await this.#depose();
    }
  }

  /**
   * Stops sequencing. A lost lease unfences first (nothing may commit any
   * more); a lease given up cleanly (`graceful`) lets the sequencer commit
   * what waits under it, then hands it back.
   */
  async #depose(graceful = false): Promise<void> {
    const epoch = this.#epoch;
    if (epoch === undefined) return;
    if (!graceful) this.#unfence();
    try {
      await this.#o.onDeposed(epoch);
    } catch (err) {
      this.#o.onError?.(err);
    }
    this.#unfence();
    if (graceful) await this.#o.store.releaseLease(epoch).catch((err: unknown) => this.#o.onError?.(err));
  }

  #unfence(): void {
    this.#epoch = undefined;
    this.#validUntil = 0;
    this.#o.store.fence(undefined);
  }

  /** Stops the loop; a held lease is handed back so another node takes over without waiting for it to expire. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
    await this.#depose(true);
  }
}
