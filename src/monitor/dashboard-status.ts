/**
 * The JSON of the monitor's GET /v1/status, which the dashboard page reads:
 * built by ./dashboard.ts, read by web/dashboard.ts in browsers, so this
 * file imports nothing.
 */
export interface DashboardLog {
  origin: string;
  url: string;
  vkey: string;
  /** Size of the last checkpoint whose whole tree was rebuilt and audited. */
  verifiedSize: number;
  verifiedCheckpoint: string | null;
  /** When this process first saw that size verified (RFC 3339); the state keeps no time, so after a restart this is the restart. */
  verifiedSeenAt: string;
  /** The size the audit works towards, and how far it got. */
  targetSize: number;
  position: number;
  /** Catch-up progress, 0 to 1 (1 when nothing is left to audit). */
  progress: number;
  audited: number;
}

export interface DashboardAlert {
  seq: number;
  kind: string;
  class: 'security' | 'operational';
  origin: string;
  message: string;
  at: string;
  /** "delivered" once every sink took it; "pending delivery" while in the outbox. */
  state: 'delivered' | 'pending delivery';
  /** Who acknowledged it and when (RFC 3339), per `vitrine monitor ack`; absent while nobody has. */
  acknowledged?: { by: string; at: string };
  hasEvidence: boolean;
}

export interface DashboardStatus {
  now: string;
  logs: DashboardLog[];
  alerts: DashboardAlert[];
  peers: Array<{ peer: string; lastExchange?: string; downSince?: string }>;
  witness?: { name: string; logs: Array<{ origin: string; size?: string }> };
  /** One row per held evidence document; `index` is its place in GET /v1/evidence. */
  evidence: Array<{ index: number; origin: string; sizes: [string, string]; observed: number }>;
}
