/**
 * What the monitor's dashboard shows (GET / with --listen, read from
 * GET /v1/status): per log the audited size, the last verified checkpoint
 * and when this process first saw it verified, and catch-up progress;
 * alerts, security apart from operational, with their delivery state and
 * who acknowledged them when (`vitrine monitor ack`); the
 * gossip peers; the witness's cosigned sizes; and the evidence held. A
 * read-only snapshot of the state, built on each request.
 */
export type { DashboardAlert, DashboardLog, DashboardStatus } from './dashboard-status.js';
import type { DashboardAlert, DashboardLog, DashboardStatus } from './dashboard-status.js';
import type { Gossip } from './gossip.js';
import type { MonitorState } from './state.js';
import type { Witness } from '../witness/witness.js';

/** Alerts shown: the most recent this many. */
export const DASHBOARD_ALERTS = 200;

export class DashboardSource {
  readonly #o: { state: MonitorState; gossip?: Gossip; witness?: Witness; now?: () => Date };
  readonly #seen = new Map<string, { size: number; at: string }>();
  constructor(o: { state: MonitorState; gossip?: Gossip; witness?: Witness; now?: () => Date }) {
    this.#o = o;
  }

  status(): DashboardStatus {
    const now = (this.#o.now?.() ?? new Date()).toISOString();
    const logs = this.#o.state.logs().map((l): DashboardLog => {
      let seen = this.#seen.get(l.origin);
      if (seen === undefined || seen.size !== l.verified.size) {
        seen = { size: l.verified.size, at: now };
        this.#seen.set(l.origin, seen);
      }
      const todo = l.target.size - l.verified.size;
      return {
        origin: l.origin,
        url: l.url,
        vkey: l.vkey,
        verifiedSize: l.verified.size,
        verifiedCheckpoint: l.verified.note,
        verifiedSeenAt: seen.at,
        targetSize: l.target.size,
        position: l.position,
        progress: todo <= 0 ? 1 : Math.max(0, Math.min(1, (l.position - l.verified.size) / todo)),
        audited: l.audited,
      };
    });
    const pending = new Set(this.#o.state.outbox().map((r) => r.seq));
    const alerts = this.#o.state
      .listAlerts()
      .slice(-DASHBOARD_ALERTS)
      .reverse()
      .map((a): DashboardAlert => ({
        seq: a.seq,
        kind: a.alert.kind,
        class: a.alert.class,
        origin: a.alert.origin,
        message: a.alert.message,
        at: a.alert.at,
        state: pending.has(a.seq) ? 'pending delivery' : 'delivered',
        ...(a.ack === undefined ? {} : { acknowledged: { by: a.ack.by, at: a.ack.at } }),
        hasEvidence: a.alert.evidence !== undefined,
      }));
    const evidence = (this.#o.gossip?.evidence() ?? []).map((e, index) => ({
      index,
      origin: e.origin,
      sizes: e.checkpoints.map((c) => c.split('\n')[1] ?? '?') as [string, string],
      observed: e.observed.length,
    }));
    const status: DashboardStatus = { now, logs, alerts, peers: this.#o.gossip?.peers() ?? [], evidence };
    if (this.#o.witness) {
      const w = this.#o.witness.status();
      status.witness = { name: w.name, logs: w.logs.map((l) => (l.size === undefined ? { origin: l.origin } : { origin: l.origin, size: l.size.toString() })) };
    }
    return status;
  }
}
