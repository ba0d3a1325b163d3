/**
 * Submitting an entry and checking the answer (the library under
 * `vitrine submit`). The log is trusted for nothing: its answer must carry
 * our exact entry bytes, and the bundle it returns must pass the same
 * offline verification as `vitrine verify` (docs/formats.md §8) against the
 * log's key, before anything is handed back to the caller.
 *
 * Before sending, the log's current checkpoint must verify with the pinned
 * log key (c2sp.org/tlog-checkpoint): a wrong key or a wrong URL fails while
 * nothing is logged yet. Once the log has accepted the entry, a failure
 * says so, with the index the log gave it, because the entry is public
 * whether or not its answer verified.
 */
import type { Ed25519 } from '../crypto/ed25519.js';
import { b64decode, bytesEqual } from '../encoding.js';
import { InvalidError } from '../errors.js';
import { decodeAnyEntry } from '../entry/index.js';
import { formatKeyId, openCheckpoint, parseVerifier } from '../note/index.js';
import { parseBundle, verifyBundle, type BundlePolicy, type BundleSuccess } from '../proof/index.js';
import { LogClient, type LogClientOptions, type SubmitResponse } from './log-client.js';

export interface SubmitOptions {
  /** The log's URL prefix. */
  log: string;
  /** Policy the answer must satisfy: at least the log key; witnesses and quorum if the log has them. */
  policy: BundlePolicy;
  ed: Ed25519;
  client?: LogClientOptions;
}

export interface SubmitResult {
  /** The verified `.tlog-proof` text. */
  bundle: string;
  index: number;
  /** True when the log added the entry (201); false when it already held it (200). */
  fresh: boolean;
  verified: BundleSuccess;
}

/** Thrown when the log answered, but its answer does not prove what it claims. */
export class BadAnswerError extends InvalidError {
  constructor(message: string) {
    super(`the log's answer does not verify: ${message}`, 'bad-log-answer');
  }
}

/** Thrown when the log's checkpoint does not verify with the pinned key; nothing was sent. */
export class WrongLogError extends InvalidError {
  constructor(message: string) {
    super(message, 'bad-log-checkpoint');
  }
}

export async function submitEntry(entry: Uint8Array, o: SubmitOptions): Promise<SubmitResult> {
  const decoded = decodeAnyEntry(entry).entry;
  const client = new LogClient(o.log, o.client);
  const logKey = typeof o.policy.logKey === 'string' ? parseVerifier(o.policy.logKey) : o.policy.logKey;
  const key = `${logKey.name}+${formatKeyId(logKey.keyId)}`;
  const note = await client.checkpoint();
  try {
    openCheckpoint(note, logKey, o.ed);
  } catch (err) {
    throw new WrongLogError(`the checkpoint of ${o.log} does not verify with the log key ${key} (${(err as Error).message}); nothing was submitted`);
  }
  const answer = await client.submit(entry);
  try {
    return checkAnswer(entry, decoded.digest, answer, o);
  } catch (err) {
    if (!(err instanceof BadAnswerError)) throw err;
    throw new BadAnswerError(
      `${err.message.replace(/^the log's answer does not verify: /, '')}. The entry IS logged (the log ${answer.status === 201 ? 'added' : 'already held'} it at index ${answer.index}); check the log and its key before trusting it`,
    );
  }
}

function checkAnswer(entry: Uint8Array, digest: Uint8Array, answer: SubmitResponse, o: SubmitOptions): SubmitResult {
  let returned: Uint8Array;
  try {
    returned = b64decode(answer.entry, 'entry');
  } catch (err) {
    throw new BadAnswerError((err as Error).message);
  }
  if (!bytesEqual(returned, entry)) throw new BadAnswerError('it carries different entry bytes than were submitted');
  let bundle;
  try {
    bundle = parseBundle(answer.bundle);
  } catch (err) {
    throw new BadAnswerError((err as Error).message);
  }
  if (!bytesEqual(bundle.entry, entry)) throw new BadAnswerError('its bundle carries different entry bytes');
  if (bundle.index !== BigInt(answer.index)) throw new BadAnswerError(`its bundle says index ${bundle.index}, the answer says ${answer.index}`);
  const result = verifyBundle({ digest }, bundle, o.policy, o.ed);
  if (!result.ok) throw new BadAnswerError(`step ${result.step}: ${result.message}`);
  return { bundle: answer.bundle, index: answer.index, fresh: answer.status === 201, verified: result };
}
