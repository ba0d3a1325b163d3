/**
 * An independent audit of a running log over HTTP, for tests: everything is
 * recomputed from the entry bundles with the test's own reference tree hash
 * and compared with the signed checkpoint, every hash tile, and (through the
 * proof endpoint) every checkpoint seen before.
 */
import { createHash } from 'node:crypto';
import { b64decode, bytesEqual } from '../../src/encoding.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { parseAndVerifyEntry } from '../../src/entry/index.js';
import { verifyConsistency } from '../../merkle/index.js';
import { openCheckpoint, parseVerifier } from '../../src/note/index.js';

const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
export const refLeaf = (data: Uint8Array) => sha(Uint8Array.of(0), data);

/** RFC 6962 §2.1 MTH, recursive, straight from the RFC. */
export function refRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Uint8Array.of(1), refRoot(leaves.slice(0, k)), refRoot(leaves.slice(k)));
}

export function tileIndexPath(n: number): string {
  const digits = String(n).padStart(Math.ceil(String(n).length / 3) * 3, '0');
  const groups = digits.match(/.../g)!;
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

export function parseBundleTile(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < data.length; ) {
    const len = (data[o]! << 8) | data[o + 1]!;
    out.push(data.slice(o + 2, o + 2 + len));
    o += 2 + len;
  }
  return out;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

export interface AuditResult {
  size: number;
  root: Uint8Array;
  note: string;
  entries: Uint8Array[];
}

/**
 * Audits the log at `url`: checkpoint signature, every entry (format and
 * signature), root recomputed from entries, every hash tile, and
 * consistency with each of `earlier` (signed checkpoint notes).
 */
export async function audit(url: string, vkey: string, earlier: readonly string[] = []): Promise<AuditResult> {
  const verifier = parseVerifier(vkey);
  const note = new TextDecoder().decode(await fetchBytes(`${url}/checkpoint`));
  const cp = openCheckpoint(note, verifier, nodeEd25519);
  const size = Number(cp.size);
  const entries: Uint8Array[] = [];
  for (let k = 0; k * 256 < size; k++) {
    const width = Math.min(256, size - k * 256);
    const path = `${url}/tile/entries/${tileIndexPath(k)}${width < 256 ? `.p/${width}` : ''}`;
    const got = parseBundleTile(await fetchBytes(path));
    if (got.length !== width) throw new Error(`${path}: ${got.length} entries, want ${width}`);
    entries.push(...got);
  }
  for (const e of entries) parseAndVerifyEntry(e, nodeEd25519);
  const leaves = entries.map(refLeaf);
  const root = refRoot(leaves);
  if (!bytesEqual(root, cp.rootHash)) throw new Error(`root recomputed from ${size} entries does not match the checkpoint`);
  // Every hash tile: level L holds the roots of 256^L-leaf subtrees.
  for (let level = 0, span = 1; span <= size; level++, span *= 256) {
    const count = Math.floor(size / span);
    for (let k = 0; k * 256 < count; k++) {
      const width = Math.min(256, count - k * 256);
      const data = await fetchBytes(`${url}/tile/${level}/${tileIndexPath(k)}${width < 256 ? `.p/${width}` : ''}`);
      if (data.length !== width * 32) throw new Error(`tile ${level}/${k}: ${data.length} bytes, want ${width * 32}`);
      for (let i = 0; i < width; i++) {
        const first = (k * 256 + i) * span;
        const want = refRoot(leaves.slice(first, first + span));
        if (!bytesEqual(data.subarray(i * 32, i * 32 + 32), want)) throw new Error(`tile ${level}/${k} hash ${i} is wrong`);
      }
    }
  }
  for (const old of earlier) {
    const o = openCheckpoint(old, verifier, nodeEd25519);
    const m = Number(o.size);
    if (m > size) throw new Error(`an earlier checkpoint has size ${m} > current ${size}: the log went backwards`);
    if (!bytesEqual(refRoot(leaves.slice(0, m)), o.rootHash)) throw new Error(`earlier checkpoint of size ${m} is not a prefix of the current tree`);
    if (m > 0 && m < size) {
      const res = (await (await fetch(`${url}/v1/proof/consistency?from=${m}&to=${size}`)).json()) as { proof: string[] };
      verifyConsistency(m, size, res.proof.map((p) => b64decode(p, 'proof')), o.rootHash, cp.rootHash);
    }
  }
  return { size, root, note, entries };
}
