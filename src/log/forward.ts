/**
 * Forwarding a submission from a node that does not sequence to the one
 * that does (issue 10 §3; docs/operations.md "Running several nodes on
 * PostgreSQL", where the choice of HTTP over a pending table is explained).
 *
 * The follower has already decoded and checked the entry; it POSTs the
 * canonical bytes to the sequencer's own `POST /v1/entries` (docs/api.md),
 * marked with the `Vitrine-Forwarded` header so that a node which lost the
 * lease meanwhile answers 503 instead of forwarding again. The answer is
 * not relayed blindly: its checkpoint must verify with this log's key and
 * origin (docs/formats.md, c2sp.org/tlog-checkpoint) and its inclusion
 * proof (RFC 9162 §2.1.3) must place this very leaf at the index claimed.
 * Only then does the follower build its own answer from it, so the
 * submitter gets the same body and .tlog-proof whichever node it talked to.
 */
import { verifyInclusion } from '../../merkle/index.js';
import type { Ed25519 } from '../crypto/ed25519.js';
import { b64decode, bytesEqual } from '../encoding.js';
import { InvalidError, MalformedError, PushbackError, TooLargeError, UnsupportedMediaTypeError, type VitrineError } from '../errors.js';
import { openCheckpoint, type Verifier } from '../note/index.js';
import type { Accepted } from './pool.js';
import type { Receipt } from './sequencer.js';

/** The request header that marks a forwarded submission. */
export const FORWARDED_HEADER = 'vitrine-forwarded';

export interface ForwardOptions {
  origin: string;
  verifier: Verifier;
  ed: Ed25519;
  /** How long to wait for the sequencer's answer (it may wait for a witness quorum). */
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** A forwarded submission's answer that this node cannot use: the submitter gets 503 and retries. */
export class ForwardError extends PushbackError {
  constructor(message: string, retryAfter = 1) {
    super(message, retryAfter);
  }
}

/**
 * Sends `item` to the sequencer at `leaderUrl` and returns its receipt,
 * checked. Rejects with a typed error: the sequencer's refusal of the
 * entry (400, 413, 415, 422) as the same error, anything else
 * (network error, timeout, 5xx, an answer that does not verify) as 503.
 */
export async function forwardSubmission(leaderUrl: string, item: Accepted, o: ForwardOptions): Promise<Receipt> {
  const doFetch = o.fetch ?? fetch;
  let res: Response;
  let text: string;
  try {
    res = await doFetch(`${leaderUrl}/v1/entries`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/cbor', [FORWARDED_HEADER]: '1' },
      body: item.data,
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    // The sequencer may have committed the entry before it failed: say so, and that resubmitting is safe.
    throw new ForwardError(`the sequencing node did not answer (${(err as Error).message}); the entry may or may not be logged: resubmit it (an entry already logged answers 200 with its index)`);
  }
  if (res.status !== 200 && res.status !== 201) {
    let body: { error?: unknown; message?: unknown } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // Not our JSON error body: reported as unavailable below.
    }
    const retry = Number(res.headers.get('retry-after'));
    const relayed = typeof body.message === 'string' ? relay(res.status, typeof body.error === 'string' ? body.error : undefined, `the sequencing node refused the entry: ${body.message}`) : undefined;
    if (relayed) throw relayed;
    throw new ForwardError(`the sequencing node answered ${res.status}${typeof body.message === 'string' ? `: ${body.message}` : ''}`, Number.isSafeInteger(retry) && retry > 0 ? retry : 1);
  }
  return checkAnswer(text, res.status === 201, item, o);
}

/** Parses and verifies a 200/201 answer body for `item`. */
export function checkAnswer(text: string, fresh: boolean, item: Accepted, o: Pick<ForwardOptions, 'origin' | 'verifier' | 'ed'>): Receipt {
  try {
    const body = JSON.parse(text) as { index?: unknown; leafHash?: unknown; checkpoint?: unknown; inclusionProof?: unknown };
    if (!Number.isSafeInteger(body.index) || (body.index as number) < 0) throw new Error('no valid index');
    if (typeof body.checkpoint !== 'string' || !Array.isArray(body.inclusionProof)) throw new Error('no checkpoint or proof');
    const index = body.index as number;
    if (typeof body.leafHash !== 'string' || !bytesEqual(b64decode(body.leafHash, 'leafHash', 32), item.leafHash)) throw new Error('the leaf hash is not this entry\'s');
    const cp = openCheckpoint(body.checkpoint, o.verifier, o.ed);
    if (cp.origin !== o.origin) throw new Error(`the checkpoint is for origin ${cp.origin}`);
    const proof = body.inclusionProof.map((h: unknown) => {
      if (typeof h !== 'string') throw new Error('a proof hash is not a string');
      return b64decode(h, 'inclusionProof', 32);
    });
    verifyInclusion(item.leafHash, index, cp.size, proof, cp.rootHash);
    return { index, fresh, checkpoint: { size: Number(cp.size), rootHash: cp.rootHash, note: body.checkpoint }, proof, witnessed: true };
  } catch (err) {
    throw new ForwardError(`the sequencing node's answer does not verify: ${(err as Error).message}`);
  }
}

/**
 * The sequencing node's refusal of an entry this node accepted (the nodes
 * disagree on configuration, e.g. --allow-signers), as the same typed
 * error; undefined for statuses that are not a refusal of the entry.
 */
function relay(status: number, code: string | undefined, message: string): VitrineError | undefined {
  if (status === 400) return new MalformedError(message, code);
  if (status === 413) return new TooLargeError(message, code);
  if (status === 415) return new UnsupportedMediaTypeError(message, code);
  if (status === 422) return new InvalidError(message, code);
  return undefined;
}
