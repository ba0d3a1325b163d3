/**
 * The two ways an audit step can fail, kept apart as the alert classes are
 * (docs/formats.md §12): a SecurityFailure is proof that the log served or
 * signed something it must not (root-mismatch, inconsistent) and is never
 * retried silently; an OperationalFailure means the monitor could not get
 * what it needs (log-unreachable, rate-limited) and is retried next poll.
 */
import type { Evidence } from '../proof/index.js';

export class SecurityFailure extends Error {
  override name = 'SecurityFailure';
  readonly kind: 'root-mismatch' | 'inconsistent';
  /** What the alert is about, for its dedupe key (a tile path, an entry index, two checkpoints). */
  readonly subject: string;
  readonly index?: number;
  /** The signed note the failure is measured against. */
  readonly checkpoint?: string;
  readonly evidence?: Evidence;
  constructor(kind: 'root-mismatch' | 'inconsistent', subject: string, message: string, extra: { index?: number; checkpoint?: string; evidence?: Evidence } = {}) {
    super(message);
    this.kind = kind;
    this.subject = subject;
    if (extra.index !== undefined) this.index = extra.index;
    if (extra.checkpoint !== undefined) this.checkpoint = extra.checkpoint;
    if (extra.evidence !== undefined) this.evidence = extra.evidence;
  }
}

export class OperationalFailure extends Error {
  override name = 'OperationalFailure';
  readonly kind: 'log-unreachable' | 'rate-limited';
  constructor(kind: 'log-unreachable' | 'rate-limited', message: string) {
    super(message);
    this.kind = kind;
  }
}
