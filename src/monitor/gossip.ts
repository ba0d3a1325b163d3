/**
 * Gossip and split-view checks (ARCHITECTURE.md, monitor invariant 4;
 * docs/formats.md §9, §13).
 *
 * Every checkpoint the monitor meets — pushed to POST /v1/gossip, pulled
 * from a peer's monitoring path, sent to the witness's add-checkpoint — is
 * opened with the log key and compared (src/gossip/splitview.ts) against
 * the trees this monitor holds as genuine: its latest verified checkpoint
 * and, in witness mode, the latest checkpoint it cosigned. Hashes of those
 * trees come from the followed log's tiles; they are re-checked against the
 * signed root, so a log serving forged tiles yields `bad-hashes`, raised as
 * a root-mismatch alert, never as a split view.
 *
 * - split view: the §9 evidence is stored in the state's conflicts table,
 *   served at GET /v1/evidence, and raised as one `split-view` alert per
 *   pair of checkpoints (dedupe key from the two checkpoint bodies, in
 *   either order).
 * - undecided (theirs is larger than any tree we hold): kept in the state
 *   (bounded, so it survives a restart) and re-checked at each gossip round
 *   once our verified tree has reached its size. The peer holding the larger tree can decide at
 *   once; it answers our push with 409 and the evidence, which we verify
 *   with verifyEvidence and record as ours.
 *
 * Peers failing (unreachable, 5xx, garbage) are operational
 * `peer-unreachable` alerts, once per episode per peer (the episode is kept
 * in the state, so a restart during it raises nothing new), and never stop
 * the audit.
 */
import { createHash } from 'node:crypto';
import { tileHashReader, type ReadHashesAsync } from '../../merkle/index.js';
import { nodeEd25519 } from '../crypto/ed25519-node.js';
import { MalformedError, NotFoundError, ForbiddenError, VitrineError } from '../errors.js';
import { compareCheckpoints } from '../gossip/splitview.js';
import { openCheckpoint, parseCheckpoint, parseNote, type OpenedCheckpoint, type Verifier } from '../note/index.js';
import { parseEvidence, verifyEvidence, MAX_EVIDENCE_BYTES, type Evidence, type Observation } from '../proof/index.js';
import type { Logger } from '../util/logger.js';
import { alertKeys, makeAlert, type PendingAlert } from './alert.js';
import { OperationalFailure, SecurityFailure } from './failures.js';
import type { MonitorState, StoredAlert } from './state.js';
import type { TileSource } from './tiles.js';

export const MAX_GOSSIP_BYTES = 64 * 1024;
/** Undecided checkpoints kept per log, at most (oldest dropped). */
const MAX_PENDING = 32;

export interface GossipLog {
  readonly logKey: Verifier;
  readonly source: TileSource;
}

export interface GossipOptions {
  state: MonitorState;
  logs: ReadonlyMap<string, GossipLog>;
  peers: readonly string[];
  /** How this monitor names itself in `observed` entries. */
  self: string;
  log: Logger;
  deliver: (alerts: StoredAlert[]) => void;
  /** Witness mode: the latest checkpoint the witness cosigned for an origin. */
  cosigned?: (origin: string) => string | undefined;
  /** Witness mode: keep a conflicting checkpoint in the witness store too. */
  recordWitnessConflict?: (origin: string, note: string, reason: string) => void;
  timeoutMs?: number;
}

export type CheckOutcome =
  | { status: 'consistent' }
  | { status: 'undecided' }
  | { status: 'split-view'; evidence: Evidence; alerted: boolean }
  | { status: 'bad-hashes'; message: string };

const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');
const textOf = (note: string) => parseNote(note).text;

/** The order-independent name of a pair of checkpoints (their bodies, without signatures). */
export function pairKey(a: string, b: string): string {
  const [x, y] = [sha256hex(textOf(a)), sha256hex(textOf(b))].sort();
  return `${x}:${y}`;
}

export class Gossip {
  readonly #o: GossipOptions;
  /** Security alerts this object raised (split-view, root-mismatch). */
  securityRaised = 0;
  /** Peer -> when gossip with it last succeeded (RFC 3339), in memory: shown on the dashboard. */
  readonly #lastExchange = new Map<string, string>();

  constructor(o: GossipOptions) {
    this.#o = o;
  }

  /** Opens a signed checkpoint of a followed log: 400 malformed, 404 unknown origin, 403 not signed by its key. */
  open(note: string): { origin: string; log: GossipLog; cp: OpenedCheckpoint } {
    let origin: string;
    try {
      origin = parseCheckpoint(parseNote(note).text).origin;
    } catch (err) {
      throw new MalformedError(`not a signed checkpoint: ${messageOf(err)}`);
    }
    const log = this.#o.logs.get(origin);
    if (log === undefined) throw new NotFoundError(`this monitor does not follow ${JSON.stringify(origin.slice(0, 100))}`);
    try {
      return { origin, log, cp: openCheckpoint(note, log.logKey, nodeEd25519) };
    } catch (err) {
      throw new ForbiddenError(`the checkpoint carries no valid signature by the key of ${origin}: ${messageOf(err)}`);
    }
  }

  /**
   * Checks a checkpoint met from `from` against our view. Throws the
   * errors of `open` (400/403/404); everything else is an outcome.
   */
  async check(note: string, from: string): Promise<CheckOutcome> {
    const { origin, log, cp } = this.open(note);
    const at = new Date().toISOString();
    const refs: string[] = [];
    const verified = this.#o.state.log(origin).verified.note;
    if (verified !== null) refs.push(verified);
    const cosigned = this.#o.cosigned?.(origin);
    if (cosigned !== undefined && (verified === null || textOf(cosigned) !== textOf(verified))) refs.push(cosigned);
    let undecided = refs.length === 0;
    for (const ref of refs) {
      const ours = openCheckpoint(ref, log.logKey, nodeEd25519);
      let result;
      try {
        result = await compareCheckpoints({ logKey: log.logKey, ours, readOurs: async (ids) => [...(await this.#reader(log, ours, ref)(ids))], theirs: cp, ed: nodeEd25519 });
      } catch (err) {
        if (err instanceof SecurityFailure) {
          this.#rootMismatch(origin, ref, err.subject, err.message);
          return { status: 'bad-hashes', message: err.message };
        }
        if (err instanceof OperationalFailure) {
          // Our log's tiles are not reachable now: decide later.
          this.#o.log('gossip-check-deferred', { origin, from, message: err.message });
          undecided = true;
          continue;
        }
        throw err;
      }
      if (result.kind === 'split-view') {
        const ev = result.evidence;
        const observed = ev.checkpoints.map((c): Observation => (textOf(c) === cp.text ? { from, at } : { from: this.#o.self, at }));
        const evidence: Evidence = { ...ev, observed };
        const alerted = this.record(origin, evidence, from);
        this.#o.recordWitnessConflict?.(origin, note, `split view with the checkpoint of size ${ours.size} this monitor holds (seen from ${from})`);
        return { status: 'split-view', evidence, alerted };
      }
      if (result.kind === 'bad-hashes') {
        this.#rootMismatch(origin, ref, `gossip/${ours.size}`, `The log's tiles for its tree of size ${ours.size} do not hash to the root it signed (checked while comparing with a checkpoint from ${from}): ${result.message}`);
        return { status: 'bad-hashes', message: result.message };
      }
      if (result.kind === 'undecided') undecided = true;
    }
    if (undecided) {
      this.#o.state.pendingAdd(origin, { body: cp.text, note, from, at, size: cp.size }, MAX_PENDING);
      return { status: 'undecided' };
    }
    return { status: 'consistent' };
  }

  /** Stores verified evidence and raises its split-view alert (once per pair). Returns whether the alert is new. */
  record(origin: string, evidence: Evidence, source: string): boolean {
    const [a, b] = [...evidence.checkpoints].sort() as [string, string];
    const key = pairKey(a, b);
    const [sa, sb] = evidence.checkpoints.map((c) => parseCheckpoint(textOf(c)).size);
    const alert: PendingAlert = makeAlert(alertKeys.subject(origin, 'split-view', key), {
      kind: 'split-view',
      origin,
      checkpoint: evidence.checkpoints[1],
      evidence,
      message: sa === sb
        ? `The log signed two different trees of the same size ${sa}: a split view (seen via ${source}).`
        : `The log signed trees of sizes ${sa} and ${sb} where the smaller is not a prefix of the larger: a split view (seen via ${source}).`,
    });
    const created = this.#o.state.commit(origin, { conflict: { note: a, against: b, evidence: JSON.stringify(evidence), source } }, [alert]);
    this.#o.log('split-view', { origin, source, new: created.length > 0 });
    if (created.length > 0) {
      this.securityRaised++;
      this.#o.deliver(created);
    }
    return created.length > 0;
  }

  /** Each configured peer: when gossip with it last succeeded (since this process started), and its open failure episode. */
  peers(): Array<{ peer: string; lastExchange?: string; downSince?: string }> {
    return this.#o.peers.map((peer) => {
      const last = this.#lastExchange.get(peer);
      const down = this.#o.state.peerDownSince(peer);
      return { peer, ...(last !== undefined ? { lastExchange: last } : {}), ...(down !== undefined ? { downSince: down } : {}) };
    });
  }

  /** Every §9 evidence document held, one per pair of checkpoints. */
  evidence(): Evidence[] {
    const seen = new Set<string>();
    const out: Evidence[] = [];
    for (const c of this.#o.state.conflicts()) {
      let ev: Evidence;
      try {
        ev = parseEvidence(c.evidence);
      } catch {
        continue;
      }
      const k = `${ev.origin}|${pairKey(ev.checkpoints[0], ev.checkpoints[1])}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(ev);
    }
    return out;
  }

  /** One gossip round for every followed log: re-check what was undecided, push our checkpoint, pull the peers'. */
  async round(signal?: AbortSignal): Promise<void> {
    for (const [origin, log] of this.#o.logs) {
      if (signal?.aborted) return;
      await this.#recheck(origin);
      const ours = this.#o.state.log(origin).verified.note;
      for (const peer of this.#o.peers) {
        if (signal?.aborted) return;
        try {
          if (ours !== null) await this.#push(peer, origin, log, ours);
          await this.#pull(peer, origin);
          this.#peerUp(peer);
        } catch (err) {
          if (!(err instanceof PeerError)) throw err;
          this.#peerFailed(peer, origin, err.message);
        }
      }
    }
  }

  async #recheck(origin: string): Promise<void> {
    const size = BigInt(this.#o.state.log(origin).verified.size);
    for (const p of this.#o.state.pending(origin)) {
      if (p.size > size) continue;
      // The row goes only once the check has decided: a crash or a failure
      // during the check (it may fetch tiles) keeps it for the next round.
      let decided: boolean;
      try {
        decided = (await this.check(p.note, p.from)).status !== 'undecided';
      } catch (err) {
        this.#o.log('gossip-recheck-failed', { origin, from: p.from, message: messageOf(err) });
        // A typed error (malformed, unsigned, unknown origin) will not change; anything else may.
        decided = err instanceof VitrineError;
      }
      if (decided) this.#o.state.pendingDelete(origin, p.body);
    }
  }

  async #push(peer: string, origin: string, log: GossipLog, note: string): Promise<void> {
    const res = await this.#fetch(peer, '/v1/gossip', { method: 'POST', headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: note });
    if (res.status === 200 || res.status === 404 || res.status === 403 || res.status === 400) {
      // 404/403: the peer does not follow this log (or with another key); nothing to learn.
      if (res.status !== 200) this.#o.log('gossip-push-refused', { peer, origin, status: res.status, body: res.text.slice(0, 200) });
      return;
    }
    if (res.status === 409) {
      let evidence: Evidence;
      try {
        evidence = parseEvidence(res.text);
      } catch (err) {
        throw new PeerError(`POST ${peer}/v1/gossip answered 409 without a valid evidence document: ${messageOf(err)}`);
      }
      const verdict = verifyEvidence(evidence, log.logKey, nodeEd25519);
      if (!verdict.ok) {
        this.#o.log('gossip-bad-evidence', { peer, origin, message: verdict.message });
        throw new PeerError(`POST ${peer}/v1/gossip answered 409 with evidence that proves nothing: ${verdict.message}`);
      }
      const at = new Date().toISOString();
      const observed = evidence.observed.length < 16 ? [...evidence.observed, { from: `${this.#o.self} (evidence from ${peer})`, at }] : evidence.observed;
      this.record(origin, { ...evidence, observed }, peer);
      return;
    }
    throw new PeerError(`POST ${peer}/v1/gossip answered ${res.status}`);
  }

  async #pull(peer: string, origin: string): Promise<void> {
    const res = await this.#fetch(peer, `/${sha256hex(origin)}/checkpoint`, { method: 'GET' });
    if (res.status === 404) return;
    if (res.status !== 200) throw new PeerError(`GET ${peer}/<origin>/checkpoint answered ${res.status}`);
    try {
      const outcome = await this.check(res.text, peer);
      if (outcome.status === 'split-view') this.#o.log('gossip-pull-split-view', { peer, origin });
    } catch (err) {
      if (err instanceof VitrineError) throw new PeerError(`the checkpoint ${peer} serves for ${origin} is unusable: ${err.message}`);
      throw err;
    }
  }

  async #fetch(peer: string, path: string, init: RequestInit): Promise<{ status: number; text: string }> {
    const url = `${peer.replace(/\/+$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000) });
    } catch (err) {
      throw new PeerError(`${init.method} ${url} failed: ${messageOf((err as { cause?: unknown }).cause ?? err)}`);
    }
    const buf = new Uint8Array(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
    if (buf.length > Math.max(MAX_GOSSIP_BYTES, MAX_EVIDENCE_BYTES)) throw new PeerError(`${init.method} ${url}: answer larger than allowed`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
    } catch {
      throw new PeerError(`${init.method} ${url}: answer is not UTF-8`);
    }
    return { status: res.status, text };
  }

  #peerFailed(peer: string, origin: string, message: string): void {
    this.#o.log('peer-unreachable', { peer, origin, message });
    if (this.#o.state.peerDownSince(peer) !== undefined) return;
    const since = new Date().toISOString();
    const alert = makeAlert(alertKeys.subject(origin, 'peer-unreachable', `${peer}|since|${since}`), {
      kind: 'peer-unreachable',
      origin,
      message: `Gossip with peer ${peer} failed: ${message.replace(/\.$/, '')}.`,
    });
    const created = this.#o.state.peerDown(origin, peer, since, [alert]);
    if (created.length > 0) this.#o.deliver(created);
  }

  #peerUp(peer: string): void {
    this.#lastExchange.set(peer, new Date().toISOString());
    const since = this.#o.state.peerDownSince(peer);
    if (since === undefined) return;
    this.#o.state.peerUp(peer);
    this.#o.log('peer-recovered', { peer, since });
  }

  #reader(log: GossipLog, ours: OpenedCheckpoint, note: string): ReadHashesAsync {
    const size = Number(ours.size);
    return tileHashReader(size, (tiles) => Promise.all(tiles.map((t) => log.source.hashTile(t, size, note))));
  }

  #rootMismatch(origin: string, note: string, subject: string, message: string): void {
    const alert = makeAlert(alertKeys.subject(origin, 'root-mismatch', subject), { kind: 'root-mismatch', origin, checkpoint: note, message });
    const created = this.#o.state.commit(origin, {}, [alert]);
    this.#o.log('security-failure', { origin, kind: 'root-mismatch', new: created.length > 0, message });
    if (created.length > 0) {
      this.securityRaised++;
      this.#o.deliver(created);
    }
  }
}

class PeerError extends Error {}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
