/**
 * The log's core operations, knowing nothing of HTTP: accept a submission
 * (decode strictly, check the signature and the signer allow-list, then
 * hand it to the sequencer), and answer every read (checkpoint, tiles,
 * entry bundles, proofs, lookups). Routes in src/http/log-app.ts call one
 * of these each; errors are typed (src/errors.ts).
 */
import { hash as cryptoHash } from 'node:crypto';
import { consistencyProofAsync, inclusionProofAsync, nodeHash, TILE_HEIGHT, TILE_WIDTH } from '../../merkle/index.js';
import type { Ed25519 } from '../crypto/ed25519.js';
import { nodeP256 } from '../crypto/p256-node.js';
import { b64encode, hexDecode, hexEncode } from '../encoding.js';
import { InvalidError, MalformedError, NotFoundError, PushbackError, TooLargeError } from '../errors.js';
import {
  decodeAnyEntry,
  entrySignedMessage,
  entrySigners,
  entrySubjects,
  entryToJson,
  entryV2ToJson,
  keyHash,
  parseAnyEntryJson,
  verifyAnyEntry,
  type EntryJson,
  type EntryV2Json,
} from '../entry/index.js';
import { entrySignedMessageOfBytes } from '../entry/message.js';
import { BUNDLE_HEADER, formatEncodedBundle } from '../proof/index.js';
import type { Accepted } from './pool.js';
import type { VerifyPool } from './verify-pool.js';
import type { Witnessing } from './witnesses.js';
import type { Receipt, SequencerView } from './sequencer.js';
import type { LogReader, LookupField, StoredEntry } from './storage.js';
import { ByteLru } from '../util/lru.js';

export interface LogServiceOptions {
  reader: LogReader;
  sequencer: SequencerView;
  origin: string;
  /** The log's verifier key string (vkey). */
  verifierKey: string;
  maxEntryBytes: number;
  /** Hex key hashes of the signers allowed to submit; undefined allows every signer. */
  allowSigners?: ReadonlySet<string>;
  /** Witness vkeys listed at /v1/log. */
  witnesses?: readonly string[];
  /** The witness client, when the log has witnesses. */
  witnessing?: Witnessing;
  /** Worker threads for submission signatures; without it, `ed` verifies on the calling thread. */
  verifyPool?: VerifyPool;
  ed: Ed25519;
  /**
   * Bytes of full tiles, full entry bundles and tile subtrees kept in
   * memory (LRU). They never change once complete, so a hit is always
   * right. 0 disables it.
   */
  readCacheBytes?: number;
  /**
   * What GET /checkpoint serves, when another process decides it (an HTTP
   * worker of `serve --workers`, src/log/workers.ts): overrides the
   * sequencer's and the witnesses' view. Throws a typed error (503) when
   * nothing may be served yet.
   */
  published?: () => string;
}

export interface SubmitAnswer {
  status: 200 | 201;
  body: {
    index: number;
    leafHash: string;
    entry: string;
    checkpoint: string;
    inclusionProof: string[];
    bundle: string;
  };
}

/** Where each level 0..7 starts in a tile's subtree, in hashes: 0, 256, 384, ..., 510. */
const SUBTREE_OFFSET = Array.from({ length: TILE_HEIGHT + 1 }, (_, level) => 2 * TILE_WIDTH - (2 * TILE_WIDTH) / 2 ** level);
const SUBTREE_NODES = SUBTREE_OFFSET[TILE_HEIGHT]!;
/** At most this many nodes of partial tiles are kept (#partial): 32 bytes each, 128 KiB. */
const PARTIAL_NODES = 4096;

const BUNDLE_HEADER_JSON = JSON.stringify(BUNDLE_HEADER).slice(1, -1);

function sha256Node(data: Uint8Array): Uint8Array {
  const h = cryptoHash('sha256', data, 'buffer');
  return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
}

/** RFC 9162 §2.1.1 leaf hash, SHA-256(0x00 || data): entryLeafHash through node:crypto. */
function leafHashNode(data: Uint8Array): Uint8Array {
  // A fresh array is zeroed: byte 0 is the leaf prefix.
  const buf = new Uint8Array(data.length + 1);
  buf.set(data, 1);
  return sha256Node(buf);
}

export type EntryView = (EntryJson | EntryV2Json) & { index: number; leafHash: string; keyHash: string; signers?: string[] };

export class LogService {
  readonly #o: LogServiceOptions;
  /** Full tiles ("L/N"), full entry bundles ("e/N") and tile subtrees ("s/N"): immutable once complete. */
  readonly readCache: ByteLru<string>;
  /** The note's JSON string body (without quotes) in UTF-8, for the last checkpoint answered. */
  #noteJson: { note: string; utf8: Buffer } | undefined;
  /** Proof hashes already in base64: the nodes a batch's answers share are the same arrays (sequencer.ts). */
  readonly #b64 = new WeakMap<Uint8Array, string>();
  /**
   * Stored nodes below level 8 outside the complete tiles (the right edge's
   * small subtrees, which nearly every proof at the newest size needs), by
   * level·2^47 + index, first in first out. A stored node never changes.
   */
  readonly #partial = new Map<number, Uint8Array>();

  constructor(o: LogServiceOptions) {
    this.#o = o;
    this.readCache = new ByteLru(o.readCacheBytes ?? 0);
  }

  get origin(): string {
    return this.#o.origin;
  }

  /** Decodes and checks a submission in canonical CBOR form. Throws a typed error and changes nothing on failure. */
  async accept(data: Uint8Array): Promise<Accepted> {
    if (data.length > this.#o.maxEntryBytes) {
      throw new TooLargeError(`entry is ${data.length} bytes, more than the limit of ${this.#o.maxEntryBytes}`);
    }
    // The decoders enforce every field rule, including canonical keys.
    const any = decodeAnyEntry(data);
    if (any.version === 1) {
      const entry = any.entry;
      // decodeEntry checked every field and that the bytes are canonical:
      // the signed message is cut from them (no second check and encode).
      const message = entrySignedMessageOfBytes(data) ?? entrySignedMessage(entry);
      const pool = this.#o.verifyPool;
      const valid = pool ? await pool.verify(entry.key, message, entry.sig) : this.#o.ed.verify(entry.key, message, entry.sig);
      if (!valid) {
        throw new InvalidError('entry signature does not verify with its key', 'bad-signature');
      }
      // node:crypto's SHA-256: the same hashes as keyHash and entryLeafHash, at a fraction of the pure-JS cost.
      const kh = sha256Node(entry.key);
      if (this.#o.allowSigners && !this.#o.allowSigners.has(hexEncode(kh))) {
        throw new InvalidError(`signer key ${hexEncode(kh)} is not on this log's allow-list`, 'signer-not-allowed');
      }
      return { data, leafHash: leafHashNode(data), digest: entry.digest, keyHash: kh, name: entry.name };
    }
    // Other kinds verify on this thread: their signatures (SSH, minisign,
    // ECDSA, DSSE) are not the pool's Ed25519-over-message shape.
    verifyAnyEntry(any, { ed: this.#o.ed, p256: nodeP256 });
    const signers = entrySigners(any);
    const allowed = this.#o.allowSigners;
    if (allowed && !signers.every((s) => allowed.has(hexEncode(s.keyHash)))) {
      const bad = signers.find((s) => !allowed.has(hexEncode(s.keyHash)))!;
      throw new InvalidError(`signer key ${bad.fingerprint} (key hash ${hexEncode(bad.keyHash)}) is not on this log's allow-list`, 'signer-not-allowed');
    }
    const subjects = entrySubjects(any);
    return { data, leafHash: leafHashNode(data), digest: any.entry.digest, keyHash: signers[0]!.keyHash, name: any.entry.name, ...(subjects.length > 0 ? { subjects } : {}) };
  }

  /** Parses a JSON-form submission strictly (no duplicate members), converts it to canonical bytes, then accepts it. */
  acceptJson(body: Uint8Array): Promise<Accepted> {
    return this.accept(parseAnyEntryJson(body));
  }

  /**
   * Sequences an entry and answers with a proof. With a witness quorum
   * above zero, the answer waits until a checkpoint covering the entry has
   * the quorum's cosignatures and proves inclusion in that checkpoint; if
   * that takes longer than the witness timeout, 503 (the entry stays
   * sequenced, and a resubmission gets it with a cosigned proof).
   */
  async submit(item: Accepted, opts: { forwarded?: boolean } = {}): Promise<SubmitAnswer> {
    const receipt = await this.sequence(item, opts);
    return { status: receipt.fresh ? 201 : 200, body: this.#answer(item, receipt) };
  }

  /**
   * `submit` with the answer as JSON in UTF-8, exactly `JSON.stringify` of
   * `submit`'s body (the HTTP answer), built without the intermediate
   * object: every field but the checkpoint is base64 or decimal and needs
   * no escaping, and the checkpoint's escaped form is made once per
   * checkpoint, not once per answer.
   */
  async submitJson(item: Accepted, opts: { forwarded?: boolean } = {}): Promise<{ status: 200 | 201; json: Buffer }> {
    const receipt = await this.sequence(item, opts);
    return { status: receipt.fresh ? 201 : 200, json: this.#answerJson(item, receipt) };
  }

  /**
   * The receipt `submit` answers from: sequenced and, with a quorum,
   * witnessed (`witnessed: true`). An HTTP worker (workers.ts) gets it from
   * the sequencing process and builds the answer itself.
   */
  async sequence(item: Accepted, opts: { forwarded?: boolean } = {}): Promise<Receipt> {
    const w = this.#o.witnessing;
    // Bounded pushback: nothing new is sequenced while the quorum is out of reach.
    w?.admit(this.#o.sequencer.size);
    let receipt = await this.#o.sequencer.submit(item, opts);
    if (w && w.quorum > 0 && !receipt.witnessed) {
      const witnessed = await w.waitFor(receipt.index + 1);
      receipt = {
        ...receipt,
        checkpoint: { size: witnessed.size, rootHash: witnessed.rootHash, note: witnessed.note },
        proof: await this.#o.sequencer.inclusionProof(receipt.index, witnessed.size),
      };
    }
    return { ...receipt, witnessed: true };
  }

  #answer(item: Accepted, r: Receipt): SubmitAnswer['body'] {
    // The entry and the proof appear twice (fields and bundle): encoded once.
    const entry = b64encode(item.data);
    const inclusionProof = r.proof.map(b64encode);
    return {
      index: r.index,
      leafHash: b64encode(item.leafHash),
      entry,
      checkpoint: r.checkpoint.note,
      inclusionProof,
      bundle: formatEncodedBundle(entry, r.index, inclusionProof, r.checkpoint.note),
    };
  }

  #answerJson(item: Accepted, r: Receipt): Buffer {
    const note = r.checkpoint.note;
    let noteJson = this.#noteJson;
    if (noteJson === undefined || noteJson.note !== note) this.#noteJson = noteJson = { note, utf8: Buffer.from(JSON.stringify(note).slice(1, -1), 'utf8') };
    const entry = b64encode(item.data);
    let proofList = '';
    let proofLines = '';
    for (const h of r.proof) {
      let b = this.#b64.get(h);
      if (b === undefined) this.#b64.set(h, (b = b64encode(h)));
      proofList += proofList === '' ? `"${b}"` : `,"${b}"`;
      proofLines += `${b}\\n`;
    }
    // Everything but the note is ASCII (base64, digits, names): copied one
    // byte per character. The note (its signature lines start with an em
    // dash) is in UTF-8 already, once per checkpoint.
    const head = `{"index":${r.index},"leafHash":"${b64encode(item.leafHash)}","entry":"${entry}","checkpoint":"`;
    const middle = `","inclusionProof":[${proofList}],"bundle":"${BUNDLE_HEADER_JSON}\\nextra ${entry}\\nindex ${r.index}\\n${proofLines}\\n`;
    const n = noteJson.utf8;
    const out = Buffer.allocUnsafe(head.length + middle.length + 2 * n.length + 2);
    let at = out.write(head, 0, 'latin1');
    at += n.copy(out, at);
    at += out.write(middle, at, 'latin1');
    at += n.copy(out, at);
    out.write('"}', at, 'latin1');
    return out;
  }

  /** The checkpoint to publish: the latest, or with witnesses, the newest that reached the quorum. */
  checkpoint(): string {
    if (this.#o.published) return this.#o.published();
    const w = this.#o.witnessing;
    if (w && w.quorum > 0) {
      if (!w.witnessed) throw new PushbackError('no checkpoint has reached the witness quorum yet', 1);
      return w.witnessed.note;
    }
    return w ? w.decorate(this.#o.sequencer.checkpoint) : this.#o.sequencer.checkpoint.note;
  }

  get size(): number {
    return this.#o.sequencer.size;
  }

  /**
   * Before answering "beyond the tree": a process that learns the tree from
   * another (an HTTP worker, workers.ts) looks again, so a read right after
   * an answer from a sibling worker never misses what that answer proved.
   */
  async #catchUp(): Promise<void> {
    await this.#o.sequencer.catchUp?.();
  }

  /**
   * The cached value of an immutable object, or `load()`'s, which is then
   * cached. A hit answers without touching storage.
   */
  async #cached(key: string, load: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const hit = this.readCache.get(key);
    if (hit !== undefined) return hit;
    const v = await load();
    this.readCache.set(key, v);
    return v;
  }

  /** A hash tile (c2sp.org/tlog-tiles): full (width 256), or partial of `width` hashes. */
  async tile(tileLevel: number, index: number, width: number = TILE_WIDTH): Promise<Uint8Array> {
    const level = tileLevel * 8;
    if (this.size < (index * TILE_WIDTH + width) * 2 ** level) await this.#catchUp();
    const available = Math.floor(this.size / 2 ** level);
    const start = index * TILE_WIDTH;
    if (width === TILE_WIDTH) {
      if (start + TILE_WIDTH > available) throw new NotFoundError(`tile ${tileLevel}/${index} is not complete yet`);
      return this.#cached(`${tileLevel}/${index}`, async () => {
        const full = await this.#o.reader.fullTile(tileLevel, index);
        if (full === undefined) throw new NotFoundError(`tile ${tileLevel}/${index} is not stored`);
        return full;
      });
    }
    if (start + width > available) throw new NotFoundError(`tile ${tileLevel}/${index}.p/${width} is beyond the tree`);
    const hashes = await this.#o.reader.readLevel(level, start, width);
    const out = new Uint8Array(width * 32);
    hashes.forEach((h, i) => out.set(h, i * 32));
    return out;
  }

  /** An entry bundle: each entry as uint16 big-endian length || bytes. */
  async entryBundle(index: number, width: number = TILE_WIDTH): Promise<Uint8Array> {
    const count = width;
    const start = index * TILE_WIDTH;
    if (this.size < start + count) await this.#catchUp();
    if (start + count > this.size) throw new NotFoundError(`entry bundle ${index}${width < TILE_WIDTH ? `.p/${width}` : ''} is beyond the tree`);
    if (width === TILE_WIDTH) return this.#cached(`e/${index}`, () => this.#bundle(start, count));
    return this.#bundle(start, count);
  }

  async #bundle(start: number, count: number): Promise<Uint8Array> {
    const entries = await this.#o.reader.entryRange(start, count);
    let len = 0;
    for (const e of entries) len += 2 + e.length;
    const out = new Uint8Array(len);
    let o = 0;
    for (const e of entries) {
      out[o] = e.length >>> 8;
      out[o + 1] = e.length & 0xff;
      out.set(e, o + 2);
      o += 2 + e.length;
    }
    return out;
  }

  async inclusion(leafHash: Uint8Array, size: number): Promise<{ index: number; size: number; proof: string[] }> {
    const index = await this.#o.reader.indexOfLeafHash(leafHash);
    if (index === undefined) throw new NotFoundError('no entry with this leaf hash');
    if (this.size < size) await this.#catchUp();
    if (size > this.size) throw new MalformedError(`size ${size} is larger than the tree (${this.size})`);
    if (index >= size) throw new MalformedError(`entry ${index} is not in the tree of size ${size}`);
    const proof = await inclusionProofAsync(BigInt(index), BigInt(size), (ids) => this.#read(ids));
    return { index, size, proof: proof.map(b64encode) };
  }

  /** Raw consistency proof hashes (for the witness client). */
  consistencyHashes(from: number, to: number): Promise<Uint8Array[]> {
    return consistencyProofAsync(BigInt(from), BigInt(to), (ids) => this.#read(ids));
  }

  async consistency(from: number, to: number): Promise<{ from: number; to: number; proof: string[] }> {
    if (from === 0) throw new MalformedError('from must be at least 1: the empty tree has no consistency proof');
    if (from > to) throw new MalformedError(`from (${from}) is larger than to (${to})`);
    if (this.size < to) await this.#catchUp();
    if (to > this.size) throw new MalformedError(`to (${to}) is larger than the tree (${this.size})`);
    const proof = await this.consistencyHashes(from, to);
    return { from, to, proof: proof.map(b64encode) };
  }

  /**
   * Reads proof nodes. A node below level 8 inside a complete 256-leaf tile
   * comes from that tile's subtree (#subtree), kept in the read cache, so a
   * proof at a hot tile costs no node reads below level 8. One below level
   * 8 outside the complete tiles (the small subtrees at the tree's right
   * edge) is read from storage once and then kept (#partial); the rest come
   * from storage (which caches the high levels).
   */
  async #read(ids: ReadonlyArray<{ level: number; index: bigint }>): Promise<Uint8Array[]> {
    const out: Uint8Array[] = new Array<Uint8Array>(ids.length);
    const rest: Array<{ level: number; index: number }> = [];
    const restAt: number[] = [];
    const fullTiles = Math.floor(this.size / TILE_WIDTH);
    const subtrees = new Map<number, Uint8Array>();
    const cached = this.readCache.maxBytes > 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const index = Number(id.index);
      if (id.level < TILE_HEIGHT && cached) {
        const k = Math.floor(index / (TILE_WIDTH >>> id.level));
        if (k < fullTiles) {
          let sub = subtrees.get(k);
          if (sub === undefined) subtrees.set(k, (sub = await this.#subtree(k)));
          const at = SUBTREE_OFFSET[id.level]! + (index - k * (TILE_WIDTH >>> id.level));
          out[i] = sub.subarray(at * 32, at * 32 + 32);
          continue;
        }
        const hit = this.#partial.get(id.level * 2 ** 47 + index);
        if (hit !== undefined) {
          out[i] = hit;
          continue;
        }
      }
      rest.push({ level: id.level, index });
      restAt.push(i);
    }
    if (rest.length > 0) {
      (await this.#o.reader.readNodes(rest)).forEach((h, j) => {
        out[restAt[j]!] = h;
        const id = rest[j]!;
        if (id.level < TILE_HEIGHT && cached) {
          if (this.#partial.size >= PARTIAL_NODES) this.#partial.delete(this.#partial.keys().next().value!);
          this.#partial.set(id.level * 2 ** 47 + id.index, h);
        }
      });
    }
    return out;
  }

  /**
   * Levels 0 to 7 of the complete subtree under full level-0 tile k, level
   * by level (256 + 128 + ... + 2 = 510 hashes, 16 KiB), computed once from
   * the tile and cached: it never changes.
   */
  #subtree(k: number): Promise<Uint8Array> {
    return this.#cached(`s/${k}`, async () => {
      const out = new Uint8Array(SUBTREE_NODES * 32);
      out.set(await this.tile(0, k), 0);
      for (let level = 1; level < TILE_HEIGHT; level++) {
        const below = SUBTREE_OFFSET[level - 1]! * 32;
        const here = SUBTREE_OFFSET[level]! * 32;
        for (let i = 0; i < TILE_WIDTH >>> level; i++) {
          const l = below + 2 * i * 32;
          out.set(nodeHash(out.subarray(l, l + 32), out.subarray(l + 32, l + 64)), here + i * 32);
        }
      }
      return out;
    });
  }

  async entry(index: number): Promise<EntryView> {
    if (this.size <= index) await this.#catchUp();
    if (index >= this.size) throw new NotFoundError(`no entry at index ${index} (tree size ${this.size})`);
    const found = await this.#o.reader.entryAt(index);
    if (!found) throw new NotFoundError(`no entry at index ${index}`);
    return view(found);
  }

  async lookup(field: LookupField, value: Uint8Array | string, after: number, limit: number): Promise<{ entries: EntryView[]; next: number | null }> {
    // Fetch one extra row to know whether more remain.
    const found = await this.#o.reader.lookup(field, value, after, limit + 1);
    if (found.length > 0 && this.size <= found[found.length - 1]!.index) await this.#catchUp();
    const rows = found.filter((r) => r.index < this.size);
    const page = rows.slice(0, limit);
    return { entries: page.map(view), next: rows.length > limit ? page[page.length - 1]!.index : null };
  }

  info(): { origin: string; verifierKey: string; size: number; rootHash: string; witnesses: string[] } {
    const cp = this.#o.sequencer.checkpoint;
    return {
      origin: this.#o.origin,
      verifierKey: this.#o.verifierKey,
      size: cp.size,
      rootHash: b64encode(cp.rootHash),
      witnesses: [...(this.#o.witnesses ?? [])],
    };
  }
}

function view(row: StoredEntry): EntryView {
  const any = decodeAnyEntry(row.data);
  if (any.version === 1) return { ...entryToJson(any.entry), index: row.index, leafHash: b64encode(row.leafHash), keyHash: keyHash(any.entry.key) };
  const signers = entrySigners(any);
  return {
    ...entryV2ToJson(any.entry),
    index: row.index,
    leafHash: b64encode(row.leafHash),
    keyHash: hexEncode(signers[0]!.keyHash),
    signers: signers.map((s) => s.fingerprint),
  };
}
