/**
 * The audit of one log (ARCHITECTURE.md, "Monitor invariants"). Each poll:
 *
 * 1. fetches /checkpoint and opens it with the log key (origin = key name);
 * 2. proves it consistent with the checkpoint the state audits towards
 *    (the target, itself proved consistent with the last verified one),
 *    RFC 9162 §2.1.4 from the log's hash tiles (./tiles.ts), and makes it
 *    the new target;
 * 3. streams the entry bundles from the audit position to the target:
 *    each entry is hashed to its leaf hash, a full bundle's leaves must fold
 *    to the level-8 hash its authenticated level-1 tile holds, a partial
 *    bundle's leaves must equal its authenticated level-0 edge tile — the
 *    tiles being authenticated top-down from the signed root, so every
 *    entry is checked against the signed root before it counts. The level-0
 *    tile of a full bundle is fetched only when the fold fails, to name the
 *    altered entry;
 * 4. appends the leaves to the rebuilt compact range (./rebuild.ts);
 * 5. decodes every new entry strictly as v1, verifies its signature and
 *    applies the policy, in worker threads (./pool.ts);
 * 6. commits progress every few bundles: position, range, the audited
 *    count and the alerts those bundles raised, in one transaction; the
 *    commit that reaches the target also moves the verified checkpoint,
 *    after checking that the rebuilt root equals the signed one.
 *
 * A SecurityFailure (root-mismatch, inconsistent) becomes an alert and the
 * audit stops short of it; the next poll meets it again, and the alert's
 * dedupe key keeps it from firing twice. An OperationalFailure opens an
 * episode (one alert) and is retried at the next poll.
 */
import { bytesEqual } from '../encoding.js';
import { nodeEd25519 } from '../crypto/ed25519-node.js';
import { entriesPath, TILE_WIDTH } from '../../merkle/index.js';
import { openCheckpoint, type Verifier } from '../note/index.js';
import type { Logger } from '../util/logger.js';
import { alertKeys, makeAlert, type PendingAlert } from './alert.js';
import type { BundleResult, Finding } from './bundle.js';
import { OperationalFailure, SecurityFailure } from './failures.js';
import type { MonitorMetrics } from './metrics.js';
import type { AuditPool } from './pool.js';
import { RebuildRange } from './rebuild.js';
import type { Episodes, LogUpdate, MonitorState, StoredAlert, StoredCheckpoint } from './state.js';
import { checkConsistency, sameSizeConflict, SignedTree, type SignedCheckpoint, type TileSource } from './tiles.js';
import { buildRollbackEvidence, verifyRollbackEvidence } from '../proof/index.js';

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export interface AuditProgress {
  readonly origin: string;
  /** Audit position now. */
  readonly position: number;
  /** Where this poll's audit started and where it goes. */
  readonly from: number;
  readonly to: number;
  /** ms epoch when this poll's audit started. */
  readonly startedAt: number;
}

export interface AuditorOptions {
  state: MonitorState;
  origin: string;
  logKey: Verifier;
  source: TileSource;
  pool: AuditPool;
  log: Logger;
  metrics: MonitorMetrics;
  /** Hands alerts to the sinks once committed. */
  onAlerts: (alerts: StoredAlert[]) => void;
  onProgress?: (p: AuditProgress) => void;
  /** Hash and rebuild only: no decode, signature or policy checks (benchmarks); recorded as a gap. */
  treeOnly?: boolean;
  /** Bundles per commit at most (default 256); a commit also happens at least every second. */
  chunkBundles?: number;
  /** Bundles fetched and queued for the workers ahead of the one being committed (default 16). */
  window?: number;
  /** Raise falling-behind when a catch-up has lasted longer than this (undefined: never, as with --once). */
  maxLagMs?: number;
  /** Test hook: pause after each commit, so a test can kill the process mid-audit. */
  paceMs?: number;
  /** Stops the catch-up at the next commit. */
  signal?: AbortSignal;
}

export interface PollResult {
  /** Security alerts raised by this poll, plus blocking security conditions met again (already alerted). */
  security: number;
  /** Operational failures of this poll (whether or not a new alert was raised for them). */
  operational: number;
  /** Entries audited by this poll. */
  audited: number;
  /** The log's latest signed size, if it was fetched. */
  logSize?: number;
  verifiedSize: number;
}

function signed(cp: StoredCheckpoint): SignedCheckpoint {
  if (cp.note === null) return { note: '', size: 0, root: cp.root };
  return { note: cp.note, size: cp.size, root: cp.root };
}

export class LogAuditor {
  readonly origin: string;
  readonly #o: AuditorOptions;
  #episodes: Episodes;

  constructor(opts: AuditorOptions) {
    this.#o = opts;
    this.origin = opts.origin;
    this.#episodes = { ...opts.state.log(opts.origin).episodes };
    const s = opts.state.log(opts.origin);
    opts.metrics.verifiedSize.set({ origin: this.origin }, s.verified.size);
  }

  #commit(update: LogUpdate, alerts: PendingAlert[] = []): StoredAlert[] {
    const created = this.#o.state.commit(this.origin, { ...update, episodes: { ...this.#episodes } }, alerts);
    if (created.length > 0) this.#o.onAlerts(created);
    return created;
  }

  async poll(): Promise<PollResult> {
    const res: PollResult = { security: 0, operational: 0, audited: 0, verifiedSize: 0 };
    try {
      await this.#poll(res);
      this.#closeEpisodes();
      this.#o.metrics.lastPoll.set({ origin: this.origin }, Date.now() / 1000);
    } catch (err) {
      const rollback = err instanceof OperationalFailure ? this.#servedBefore(err) : undefined;
      if (err instanceof SecurityFailure || rollback !== undefined) {
        this.#closeEpisodes();
        this.#raise(rollback ?? (err as SecurityFailure), res);
      } else if (err instanceof OperationalFailure) {
        this.#operational(err, res);
      } else {
        throw err;
      }
    }
    const s = this.#o.state.log(this.origin);
    res.verifiedSize = s.verified.size;
    this.#o.metrics.verifiedSize.set({ origin: this.origin }, s.verified.size);
    if (res.logSize !== undefined) this.#o.metrics.lag.set({ origin: this.origin }, Math.max(0, res.logSize - s.verified.size));
    return res;
  }

  /** Commits the alert of a security failure (deduped) and counts it: it blocks the audit either way. */
  #raise(err: SecurityFailure, res: PollResult): void {
    const alert = makeAlert(alertKeys.subject(this.origin, err.kind, err.subject), {
      kind: err.kind,
      origin: this.origin,
      ...(err.index !== undefined ? { index: err.index } : {}),
      ...(err.checkpoint !== undefined && err.checkpoint !== '' ? { checkpoint: err.checkpoint } : {}),
      ...(err.evidence !== undefined ? { evidence: err.evidence } : {}),
      message: err.message,
    });
    const update: LogUpdate = {};
    // Split-view documents are kept for /v1/evidence and gossip; a rollback document travels in its alert.
    if (err.evidence !== undefined && err.kind !== 'rollback') {
      const [a, b] = err.evidence.checkpoints;
      update.conflict = { note: b, against: a, evidence: JSON.stringify(err.evidence), source: this.#o.source.url };
    }
    const created = this.#commit(update, [alert]);
    res.security++;
    this.#o.log('security-failure', { origin: this.origin, kind: err.kind, new: created.length > 0, message: err.message });
  }

  /**
   * A 404 for a tile or bundle whose whole content lies in the tree this
   * monitor verified: the log signed that tree and served those tiles to
   * build it, so it no longer serving them is a rollback (or lost data),
   * not an outage. Tiles beyond the verified tree stay operational: a log
   * may be slow to publish them.
   */
  #servedBefore(err: OperationalFailure): SecurityFailure | undefined {
    const m = err.missing;
    const v = this.#o.state.log(this.origin).verified;
    if (m === undefined || v.note === null) return undefined;
    const held = m.level < 0 ? v.size : Math.floor(v.size / TILE_WIDTH ** m.level);
    if (m.index * TILE_WIDTH + m.width > held) return undefined;
    return new SecurityFailure(
      'rollback',
      `missing/${v.size}/${m.path}`,
      `The log no longer serves ${m.path}, part of its tree of size ${v.size}, which it signed and this monitor verified: it was rolled back or lost data.`,
      { checkpoint: v.note },
    );
  }

  #operational(err: OperationalFailure, res: PollResult): void {
    res.operational++;
    const field = err.kind === 'rate-limited' ? 'rateLimited' : 'unreachable';
    this.#o.log('log-unreachable', { origin: this.origin, kind: err.kind, message: err.message });
    if (this.#episodes[field] !== undefined) return;
    const since = new Date().toISOString();
    this.#episodes[field] = since;
    this.#commit({}, [makeAlert(alertKeys.episode(this.origin, err.kind, since), { kind: err.kind, origin: this.origin, message: err.message })]);
  }

  #closeEpisodes(): void {
    if (this.#episodes.unreachable === undefined && this.#episodes.rateLimited === undefined) return;
    this.#o.log('log-recovered', { origin: this.origin, since: this.#episodes.unreachable ?? this.#episodes.rateLimited });
    delete this.#episodes.unreachable;
    delete this.#episodes.rateLimited;
    this.#commit({});
  }

  async #poll(res: PollResult): Promise<void> {
    const { source, logKey, state } = this.#o;
    const note = await source.checkpoint();
    let opened;
    try {
      opened = openCheckpoint(note, logKey, nodeEd25519);
    } catch (err) {
      throw new OperationalFailure('log-unreachable', `the log's /checkpoint does not carry a valid checkpoint signed by the log key: ${(err as Error).message}`);
    }
    if (opened.size > BigInt(Number.MAX_SAFE_INTEGER)) throw new OperationalFailure('log-unreachable', `the log's checkpoint has size ${opened.size}, beyond what this monitor handles (2^53-1)`);
    const latest: SignedCheckpoint = { note, size: Number(opened.size), root: opened.rootHash };
    res.logSize = latest.size;
    this.#o.metrics.logSize.set({ origin: this.origin }, latest.size);

    const s = state.log(this.origin);
    const target = s.target;
    if (latest.size > s.verified.size && this.#episodes.behind === undefined) this.#episodes.behind = new Date().toISOString();
    if (latest.size === target.size) {
      if (!bytesEqual(latest.root, target.root)) {
        if (target.note === null) await SignedTree.open(source, latest); // throws: an empty tree with a wrong root
        this.#raise(sameSizeConflict(this.origin, signed(target), latest, source.url, logKey), res);
      } else if (target.note === null && latest.size === 0) {
        this.#commit({ verified: latest, target: latest });
      }
    } else if (latest.size > target.size) {
      try {
        await checkConsistency(source, this.origin, signed(target), latest, logKey);
        this.#commit({ target: latest });
        this.#o.log('checkpoint', { origin: this.origin, size: latest.size, verified: s.verified.size });
      } catch (err) {
        if (!(err instanceof SecurityFailure)) throw err;
        // The new checkpoint cannot be adopted, but the target we have is still worth auditing.
        this.#raise(err, res);
      }
    } else {
      await this.#rollback(latest, signed(target), res);
      return;
    }
    if (latest.size === s.verified.size && s.position === s.verified.size && s.verified.note !== null && s.verified.size > 0) {
      // Nothing new: check that the log still serves the tree it signed (its right edge folds to the root).
      await SignedTree.open(source, signed(s.verified));
    }
    await this.#catchUp(res);
    const after = state.log(this.origin);
    if (after.verified.size >= latest.size && this.#episodes.behind !== undefined) {
      delete this.#episodes.behind;
      delete this.#episodes.behindAlerted;
      if (after.episodes.behind !== undefined) this.#commit({});
    }
  }

  /**
   * The log serves a signed checkpoint smaller than one it served before
   * and this monitor adopted (the target, which is the verified one or
   * later): a rollback, from the first look, with the two signed
   * checkpoints as its evidence (src/proof/rollback.ts). If the larger
   * tree's tiles are still served, the smaller tree is also checked to be
   * its prefix: a fork is `inconsistent` as well, with §9 evidence. No
   * catch-up follows: the log no longer serves the tree it was heading to.
   */
  async #rollback(latest: SignedCheckpoint, target: SignedCheckpoint, res: PollResult): Promise<void> {
    const { source, logKey } = this.#o;
    const evidence = buildRollbackEvidence(this.origin, target.note, latest.note, [{ from: source.url, at: new Date().toISOString() }]);
    const verdict = verifyRollbackEvidence(evidence, logKey, nodeEd25519);
    if (!verdict.ok) throw new Error(`internal: built rollback evidence that does not verify: ${verdict.message}`);
    this.#raise(
      new SecurityFailure(
        'rollback',
        `${latest.size}:${hex(latest.root)}/${target.size}:${hex(target.root)}`,
        `The log serves a checkpoint of size ${latest.size}, smaller than its checkpoint of size ${target.size} that this monitor already accepted: it was rolled back (or serves an old checkpoint).`,
        { checkpoint: latest.note, evidence },
      ),
      res,
    );
    if (latest.size === 0) return;
    try {
      await checkConsistency(source, this.origin, latest, target, logKey);
    } catch (err) {
      if (err instanceof SecurityFailure) this.#raise(err, res);
      else if (err instanceof OperationalFailure) this.#o.log('rollback-consistency-unchecked', { origin: this.origin, message: err.message });
      else throw err;
    }
  }

  #checkBehind(): void {
    const since = this.#episodes.behind;
    if (this.#o.maxLagMs === undefined || since === undefined || this.#episodes.behindAlerted) return;
    const lagMs = Date.now() - Date.parse(since);
    if (lagMs <= this.#o.maxLagMs) return;
    this.#episodes.behindAlerted = true;
    const s = this.#o.state.log(this.origin);
    this.#commit({}, [
      makeAlert(alertKeys.episode(this.origin, 'falling-behind', since), {
        kind: 'falling-behind',
        origin: this.origin,
        message: `The monitor has been behind the log for ${Math.round(lagMs / 1000)} s (verified ${s.verified.size} entries, auditing towards ${s.target.size}).`,
      }),
    ]);
  }

  /** Audits from the position to the target and moves the verified checkpoint there. */
  async #catchUp(res: PollResult): Promise<void> {
    const { state, source, pool, origin } = { ...this.#o, origin: this.origin };
    const s = state.log(origin);
    const target = signed(s.target);
    const end = target.size;
    if (s.position === end) {
      if (s.verified.size !== end) this.#finish(RebuildRange.from(s.position, s.range), s.target, 0, []);
      return;
    }
    const tree = await SignedTree.open(source, target);
    const range = RebuildRange.from(s.position, s.range);
    const from = s.position;
    const startedAt = Date.now();
    const treeOnly = this.#o.treeOnly === true;
    const chunkBundles = this.#o.chunkBundles ?? 256;
    const window = this.#o.window ?? 16;
    const first = Math.floor(from / TILE_WIDTH);
    const last = Math.floor((end - 1) / TILE_WIDTH);
    this.#o.log('audit-start', { origin, from, to: end, treeOnly });

    const jobs = new Map<number, Promise<BundleResult>>();
    let started = first;
    const startJobs = (upTo: number) => {
      for (; started <= Math.min(upTo, last); started++) {
        const k = started;
        const width = Math.min(TILE_WIDTH, end - k * TILE_WIDTH);
        const skip = k === first ? from - k * TILE_WIDTH : 0;
        const p = source.bundle(k, width, end).then((data) => pool.run({ data, width, firstIndex: k * TILE_WIDTH, skip, audit: !treeOnly }));
        p.catch(() => {});
        jobs.set(k, p);
      }
    };

    let pos = from;
    let chunkFrom = from;
    let chunkAudited = 0;
    let chunkBundleCount = 0;
    let chunkAlerts: PendingAlert[] = [];
    let lastCommit = Date.now();
    const flush = (): void => {
      if (pos === chunkFrom) return;
      const update: LogUpdate = { position: pos, range: range.hashes(), auditedDelta: chunkAudited };
      if (treeOnly) update.gap = { from: chunkFrom, to: pos, reason: 'tree-only rebuild (--tree-only): entry format, signatures and policy were not checked' };
      if (pos === end) this.#finish(range, s.target, chunkAudited, chunkAlerts, update);
      else this.#commit(update, chunkAlerts);
      this.#o.metrics.entriesAudited.inc({ origin }, chunkAudited);
      res.audited += chunkAudited;
      chunkFrom = pos;
      chunkAudited = 0;
      chunkBundleCount = 0;
      chunkAlerts = [];
      lastCommit = Date.now();
    };

    try {
      for (let k = first; k <= last; k++) {
        startJobs(k + window - 1);
        const result = await jobs.get(k)!;
        jobs.delete(k);
        const width = Math.min(TILE_WIDTH, end - k * TILE_WIDTH);
        const path = entriesPath({ index: BigInt(k), width });
        if (!result.ok) {
          throw new SecurityFailure('root-mismatch', path, `The log served ${path} as something other than ${width} well-framed entries (${result.error}), so it cannot match the tree it signed at size ${end}.`, { checkpoint: target.note });
        }
        await this.#authenticate(tree, k, width, path, result.leafHashes, result.subtree);
        const skip = pos - k * TILE_WIDTH;
        if (skip === 0 && result.subtree !== undefined) range.appendSubtree(result.subtree);
        else for (let i = skip; i < width; i++) range.appendLeaf(result.leafHashes.subarray(i * 32, i * 32 + 32));
        pos = k * TILE_WIDTH + width;
        chunkAudited += result.audited;
        for (const f of result.findings) chunkAlerts.push(this.#findingAlert(f, target.note));
        chunkBundleCount++;
        if (chunkBundleCount >= chunkBundles || k === last || Date.now() - lastCommit > 1000) {
          flush();
          this.#o.onProgress?.({ origin, position: pos, from, to: end, startedAt });
          this.#checkBehind();
          if (this.#o.paceMs) await new Promise((r) => setTimeout(r, this.#o.paceMs));
          if (this.#o.signal?.aborted) return;
        }
      }
    } catch (err) {
      // Everything before the failing bundle was authenticated: keep it.
      flush();
      throw err;
    }
    const seconds = (Date.now() - startedAt) / 1000;
    this.#o.log('checkpoint-verified', { origin, size: end, entries: end - from, seconds: Number(seconds.toFixed(3)), perSecond: Math.round((end - from) / Math.max(seconds, 1e-3)), treeOnly });
  }

  /** Checks a bundle's leaves against the authenticated tree; throws root-mismatch naming what differs. */
  async #authenticate(tree: SignedTree, k: number, width: number, path: string, leaves: Uint8Array, subtree: Uint8Array | undefined): Promise<void> {
    const note = tree.checkpoint.note;
    const size = tree.size;
    if (subtree !== undefined) {
      if (bytesEqual(subtree, await tree.subtreeHash(k))) return;
      // Name the altered entry: the level-0 tile is authenticated against the level-1 one.
      let tile: Uint8Array;
      try {
        tile = await tree.leafTile(k);
      } catch (err) {
        if (!(err instanceof SecurityFailure)) throw err;
        throw new SecurityFailure('root-mismatch', path, `The log served ${path} and its hash tile, and neither matches the tree it signed at size ${size}.`, { checkpoint: note });
      }
      this.#compareLeaves(tile, leaves, k, width, path, size, note);
      throw new Error(`internal: ${path} folds to a different subtree hash but every leaf matches`);
    }
    this.#compareLeaves(await tree.leafTile(k), leaves, k, width, path, size, note);
  }

  #compareLeaves(tile: Uint8Array, leaves: Uint8Array, k: number, width: number, path: string, size: number, note: string): void {
    for (let i = 0; i < width; i++) {
      if (!bytesEqual(tile.subarray(i * 32, i * 32 + 32), leaves.subarray(i * 32, i * 32 + 32))) {
        const index = k * TILE_WIDTH + i;
        throw new SecurityFailure('root-mismatch', `entry/${index}`, `Entry ${index}, as served in ${path}, does not hash to the leaf the log's signed tree of size ${size} holds at that index: the log altered it.`, { index, checkpoint: note });
      }
    }
  }

  #findingAlert(f: Finding, note: string): PendingAlert {
    return makeAlert(alertKeys.entry(this.origin, f.kind, f.index), {
      kind: f.kind,
      origin: this.origin,
      index: f.index,
      ...(f.name !== undefined ? { name: f.name } : {}),
      ...(f.digest !== undefined ? { digest: f.digest } : {}),
      ...(f.keyHash !== undefined ? { keyHash: f.keyHash } : {}),
      checkpoint: note,
      message: f.message,
    });
  }

  /** The commit that reaches the target: the rebuilt root must be the signed one, then verified moves. */
  #finish(range: RebuildRange, target: StoredCheckpoint, audited: number, alerts: PendingAlert[], update: LogUpdate = {}): void {
    if (!bytesEqual(range.root(), target.root)) {
      // Every bundle was checked against authenticated tiles, so this is a bug here, not the log's doing.
      throw new Error(`internal: the rebuilt tree of size ${range.size} does not have the signed root`);
    }
    this.#commit({ ...update, verified: target }, alerts);
    this.#o.log('verified', { origin: this.origin, size: target.size });
  }
}
