/**
 * Monitor alerts (docs/formats.md §12): one JSON object per alert, with a kind,
 * its class, the log's origin, the entry it concerns where there is one,
 * the signed checkpoint that covers it, one human sentence, and the time.
 *
 * The two classes never mix: `security` kinds say the log (or a signer) did
 * something it must not; `operational` kinds say the monitor could not do
 * its job. Every alert also has a dedupe key, stored in the state with a
 * unique constraint, so it fires once even across restarts.
 */
import type { Evidence, RollbackEvidence } from '../proof/index.js';

export const SECURITY_KINDS = [
  'unexpected-signer',
  'unexpected-entry',
  'revoked-key',
  'unexpected-attestation',
  'bad-entry',
  'root-mismatch',
  'inconsistent',
  'split-view',
  'rollback',
] as const;
export const OPERATIONAL_KINDS = ['log-unreachable', 'peer-unreachable', 'witness-unreachable', 'falling-behind', 'rate-limited'] as const;

export type SecurityKind = (typeof SECURITY_KINDS)[number];
export type OperationalKind = (typeof OPERATIONAL_KINDS)[number];
export type AlertKind = SecurityKind | OperationalKind;
export type AlertClass = 'security' | 'operational';

export function classOf(kind: AlertKind): AlertClass {
  return (SECURITY_KINDS as readonly string[]).includes(kind) ? 'security' : 'operational';
}

export function isAlertKind(kind: string): kind is AlertKind {
  return (SECURITY_KINDS as readonly string[]).includes(kind) || (OPERATIONAL_KINDS as readonly string[]).includes(kind);
}

export interface Alert {
  readonly kind: AlertKind;
  readonly class: AlertClass;
  readonly origin: string;
  readonly index?: number;
  readonly name?: string;
  /** Lowercase hex SHA-256 of the artifact. */
  readonly digest?: string;
  /** Lowercase hex SHA-256 of the signer's public key (docs/formats.md §4). */
  readonly keyHash?: string;
  /** The signed checkpoint note that covers the alert. */
  readonly checkpoint?: string;
  /** docs/formats.md §9 evidence for inconsistent and split-view; the rollback document (src/proof/rollback.ts) for rollback. */
  readonly evidence?: Evidence | RollbackEvidence;
  readonly message: string;
  /** RFC 3339. */
  readonly at: string;
}

/** What produces an alert: everything but the class (derived) and the time (stamped when raised). */
export type AlertInput = Omit<Alert, 'class' | 'at'>;

/** An alert not yet committed: its dedupe key and its content. */
export interface PendingAlert {
  readonly key: string;
  readonly alert: Alert;
}

export function makeAlert(key: string, input: AlertInput, at: Date = new Date()): PendingAlert {
  return { key, alert: { ...input, class: classOf(input.kind), at: at.toISOString() } };
}

/**
 * The alert as one line of JSON (no newline), fields in the order of
 * docs/formats.md §12, absent fields omitted. The exact text is stored, so that
 * every sink carries the same bytes and alerts.jsonl can be checked by
 * content after a crash.
 */
export function alertJson(a: Alert): string {
  const o: Record<string, unknown> = { kind: a.kind, class: a.class, origin: a.origin };
  if (a.index !== undefined) o['index'] = a.index;
  if (a.name !== undefined) o['name'] = a.name;
  if (a.digest !== undefined) o['digest'] = a.digest;
  if (a.keyHash !== undefined) o['keyHash'] = a.keyHash;
  if (a.checkpoint !== undefined) o['checkpoint'] = a.checkpoint;
  if (a.evidence !== undefined) o['evidence'] = a.evidence;
  o['message'] = a.message;
  o['at'] = a.at;
  return JSON.stringify(o);
}

/** Dedupe keys. An entry alert is once per (log, kind, index); others name what they are about. */
export const alertKeys = {
  entry: (origin: string, kind: AlertKind, index: number) => `${origin}|${kind}|entry|${index}`,
  subject: (origin: string, kind: AlertKind, subject: string) => `${origin}|${kind}|${subject}`,
  /** Operational alerts fire once per episode: from the moment the condition starts until it clears. */
  episode: (origin: string, kind: OperationalKind, since: string) => `${origin}|${kind}|since|${since}`,
};
