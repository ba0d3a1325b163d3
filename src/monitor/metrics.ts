/**
 * Prometheus metrics of a monitor (prom-client), in their own registry, as
 * src/log/metrics.ts does for the log. Documented in docs/monitoring.md.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export class MonitorMetrics {
  readonly registry = new Registry();
  readonly entriesAudited = new Counter({
    name: 'vitrine_monitor_entries_audited_total',
    help: 'Entries fetched, hashed into the rebuilt tree and checked (format, signature, policy), per log.',
    labelNames: ['origin'] as const,
    registers: [this.registry],
  });
  readonly alerts = new Counter({
    name: 'vitrine_monitor_alerts_total',
    help: 'Alerts raised (after dedupe), by kind and class.',
    labelNames: ['origin', 'kind', 'class'] as const,
    registers: [this.registry],
  });
  readonly verifiedSize = new Gauge({
    name: 'vitrine_monitor_verified_tree_size',
    help: 'Size of the latest checkpoint this monitor verified completely, per log.',
    labelNames: ['origin'] as const,
    registers: [this.registry],
  });
  readonly logSize = new Gauge({
    name: 'vitrine_monitor_log_tree_size',
    help: 'Size of the latest validly signed checkpoint the log served, per log.',
    labelNames: ['origin'] as const,
    registers: [this.registry],
  });
  readonly lag = new Gauge({
    name: 'vitrine_monitor_lag_entries',
    help: 'Entries the log has signed that this monitor has not verified yet.',
    labelNames: ['origin'] as const,
    registers: [this.registry],
  });
  readonly fetchErrors = new Counter({
    name: 'vitrine_monitor_fetch_errors_total',
    help: 'Failed requests to a log, by reason (unreachable, http, not-found, rate-limited, other).',
    labelNames: ['origin', 'reason'] as const,
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'vitrine_monitor_alert_deliveries_total',
    help: 'Webhook and exec delivery attempts by outcome.',
    labelNames: ['sink', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly lastPoll = new Gauge({
    name: 'vitrine_monitor_last_successful_poll_timestamp_seconds',
    help: 'When a poll of the log last completed without an operational failure.',
    labelNames: ['origin'] as const,
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    // prom-client's default names already start with process_ / nodejs_: the prefix adds only ours.
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'vitrine_monitor_' });
  }
}
