/**
 * A log server for monitor tests that can lie. It holds a list of entries,
 * computes honest hash tiles from them with merkle/ (CompactRange, as the
 * log does) and serves c2sp.org/tlog-tiles paths on 127.0.0.1 port 0, with
 * checkpoints signed by its log key. Tests then make it misbehave:
 * `publish` any tree (a fork: other entries, same key), `tamper` with the
 * bytes of any path, or serve a checkpoint of their choosing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactRange, parseTilePath, TILE_WIDTH } from '../../merkle/index.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { encodeEntry, signEntry } from '../../src/entry/index.js';
import { sha256 } from '../../merkle/index.js';
import { formatCheckpoint, formatVerifier, generateSigner, signNote, verifierFromSigner, type Signer } from '../../src/note/index.js';

export interface Tree {
  entries: Uint8Array[];
  /** Stored nodes of levels 0, 8, 16...: `${level}/${index}` → hash. */
  nodes: Map<string, Uint8Array>;
  root: Uint8Array;
}

export function buildTree(entries: Uint8Array[]): Tree {
  const range = new CompactRange();
  const nodes = new Map<string, Uint8Array>();
  for (const e of entries) {
    const leaf = sha256(new Uint8Array([0, ...e]));
    for (const n of range.append(leaf)) if (n.level % 8 === 0) nodes.set(`${n.level}/${n.index}`, n.hash);
  }
  return { entries, nodes, root: range.root() };
}

export const signerA = generateSigner('alice.example', nodeEd25519);
export const signerB = generateSigner('bob.example', nodeEd25519);
export const vkeyOf = (s: Signer): string => formatVerifier(verifierFromSigner(s));

/** A validly signed entry. */
export function entry(signer: Signer, name: string, artifact = name): Uint8Array {
  return encodeEntry(signEntry({ name, digest: sha256(new TextEncoder().encode(artifact)) }, signer.seed, nodeEd25519));
}

/** An entry whose signature does not verify (last signature byte flipped): canonical, decodable. */
export function badSignatureEntry(signer: Signer, name: string): Uint8Array {
  const e = entry(signer, name);
  // Without annotations the signature is the last 64 bytes.
  e[e.length - 1]! ^= 0x01;
  return e;
}

export class FakeLog {
  readonly origin: string;
  readonly signer: Signer;
  readonly vkey: string;
  tree: Tree;
  /** The checkpoint served at /checkpoint. */
  checkpoint = '';
  /** Rewrites the body of a path (without leading slash) before it is served; return undefined for 404. */
  tamper: ((path: string, body: Uint8Array | undefined) => Uint8Array | undefined) | undefined;
  /** Paths requested, in order. */
  readonly requests: string[] = [];
  server!: Server;
  url = '';

  constructor(origin = 'fake.example/log', entries: Uint8Array[] = []) {
    this.origin = origin;
    this.signer = generateSigner(origin, nodeEd25519);
    this.vkey = vkeyOf(this.signer);
    this.tree = buildTree(entries);
    this.publish();
  }

  /** Signs a checkpoint for the first `size` entries of `tree` (default: all of the current tree) and serves it. */
  publish(size?: number, tree = this.tree): string {
    this.tree = tree;
    this.checkpoint = this.sign(size ?? tree.entries.length, tree);
    return this.checkpoint;
  }

  /** A signed checkpoint note for the first `size` entries of `tree`. */
  sign(size: number, tree = this.tree): string {
    const root = size === tree.entries.length ? tree.root : buildTree(tree.entries.slice(0, size)).root;
    return signNote(formatCheckpoint({ origin: this.origin, size, rootHash: root }), [this.signer], nodeEd25519);
  }

  append(...entries: Uint8Array[]): string {
    return this.publish(undefined, buildTree([...this.tree.entries, ...entries]));
  }

  /** The honest body of a tile path, or undefined if the tree has no such tile. */
  honest(path: string): Uint8Array | undefined {
    let t;
    try {
      t = parseTilePath(path);
    } catch {
      return undefined;
    }
    const start = Number(t.index) * TILE_WIDTH;
    if (t.entries) {
      if (start + t.width > this.tree.entries.length) return undefined;
      const parts = this.tree.entries.slice(start, start + t.width);
      const out = new Uint8Array(parts.reduce((n, e) => n + 2 + e.length, 0));
      let o = 0;
      for (const e of parts) {
        out[o] = e.length >> 8;
        out[o + 1] = e.length & 0xff;
        out.set(e, o + 2);
        o += 2 + e.length;
      }
      return out;
    }
    const out = new Uint8Array(t.width * 32);
    for (let i = 0; i < t.width; i++) {
      const h = this.tree.nodes.get(`${t.level * 8}/${start + i}`);
      if (h === undefined) return undefined;
      out.set(h, i * 32);
    }
    return out;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').slice(1);
      this.requests.push(path);
      if (path === 'checkpoint') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(this.checkpoint);
        return;
      }
      let body = this.honest(path);
      if (this.tamper) body = this.tamper(path, body);
      if (body === undefined) res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not-found","message":"no such tile"}');
      else res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(body);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}
