/**
 * The two ways an audit step can fail, kept apart as the alert classes are
 * (docs/formats.md §12): a SecurityFailure is proof that the log served or
 * signed something it must not (root-mismatch, inconsistent) and is never
 * retried silently; an OperationalFailure means the monitor could not get
 * what it needs (log-unreachable, rate-limited) and is retried next poll.
 */
import type { Evidence, RollbackEvidence } from '../proof/index.js';

export type SecurityFailureKind = 'root-mismatch' | 'inconsistent' | 'rollback';

export class SecurityFailure extends Error {
  override name = 'SecurityFailure';
  readonly kind: SecurityFailureKind;
  /** What the alert is about, for its dedupe key (a tile path, an entry index, two checkpoints). */
  readonly subject: string;
  readonly index?: number;
  /** The signed note the failure is measured against. */
  readonly checkpoint?: string;
  readonly evidence?: Evidence | RollbackEvidence;
  constructor(kind: SecurityFailureKind, subject: string, message: string, extra: { index?: number; checkpoint?: string; evidence?: Evidence | RollbackEvidence } = {}) {
    super(message);
    this.kind = kind;
    this.subject = subject;
    if (extra.index !== undefined) this.index = extra.index;
    if (extra.checkpoint !== undefined) this.checkpoint = extra.checkpoint;
    if (extra.evidence !== undefined) this.evidence = extra.evidence;
  }
}

/** A tile or entry bundle the log answered 404 for, in both its partial and full forms. */
export interface MissingTile {
  readonly path: string;
  /** Tile level; -1 for an entry bundle. */
  readonly level: number;
  readonly index: number;
  readonly width: number;
}

export class OperationalFailure extends Error {
  override name = 'OperationalFailure';
  readonly kind: 'log-unreachable' | 'rate-limited';
  /** Set when the failure is a 404: the auditor tells a tile the verified tree holds (rollback) from one not yet published. */
  readonly missing?: MissingTile;
  constructor(kind: 'log-unreachable' | 'rate-limited', message: string, missing?: MissingTile) {
    super(message);
    this.kind = kind;
    if (missing !== undefined) this.missing = missing;
  }
}
