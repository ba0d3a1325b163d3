/**
 * Fast bulk generator for benchmarks: fills a log data directory with `n`
 * validly signed entries by writing batches straight through the storage
 * interface (no HTTP, one transaction per 16384 entries), then signs the
 * final checkpoint with the log key, so `vitrine serve` starts on it as on
 * any other log. The log key is written to DIR/log.key as serve expects.
 */
import { createHash, createPrivateKey, sign as nodeSign } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompactRange } from '../../merkle/index.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { entrySignedMessage, encodeEntry, entryLeafHash, keyHash } from '../../src/entry/index.js';
import { hexDecode } from '../../src/encoding.js';
import { SqliteStorage } from '../../src/log/storage/sqlite.js';
import type { StoredNode, TileRecord } from '../../src/log/storage.js';
import { formatCheckpoint, formatSigner, formatVerifier, generateSigner, signNote, verifierFromSigner } from '../../src/note/index.js';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface BulkResult {
  vkey: string;
  size: number;
}

export function bulkFill(dir: string, origin: string, n: number, onProgress?: (done: number) => void): BulkResult {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const logSigner = generateSigner(origin, nodeEd25519);
  writeFileSync(join(dir, 'log.key'), `${formatSigner(logSigner)}\n`, { mode: 0o600 });
  const storage = new SqliteStorage(join(dir, 'log.db'), { durability: 'off' });
  void storage.setIdentity({ origin });
  const signer = generateSigner('bulk-signer.example', nodeEd25519);
  const signKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, signer.seed]), format: 'der', type: 'pkcs8' });
  const kh = hexDecode(keyHash(signer.publicKey), 'key hash', 32);
  const range = new CompactRange();
  const BATCH = 16384;
  let size = 0;
  // Level-8k hashes for the current full tiles, kept until the tile is written.
  const pending = new Map<string, Uint8Array>();
  while (size < n) {
    const count = Math.min(BATCH, n - size);
    const entries = [];
    const nodes: StoredNode[] = [];
    const tiles: TileRecord[] = [];
    for (let i = 0; i < count; i++) {
      const index = size + i;
      const name = `pkg:generic/bulk@${index}`;
      const digest = new Uint8Array(createHash('sha256').update(name).digest());
      const unsigned = { name, digest, key: signer.publicKey };
      const sig = new Uint8Array(nodeSign(null, entrySignedMessage(unsigned), signKey));
      const data = encodeEntry({ ...unsigned, sig });
      const leafHash = entryLeafHash(data);
      entries.push({ index, data, leafHash, digest, keyHash: kh, name });
      for (const node of range.append(leafHash)) {
        const idx = Number(node.index);
        nodes.push({ level: node.level, index: idx, hash: node.hash });
        if (node.level % 8 === 0) {
          pending.set(`${node.level}/${idx}`, node.hash);
          if (idx % 256 === 255) {
            const t = (idx - 255) / 256;
            const data = new Uint8Array(256 * 32);
            for (let j = 0; j < 256; j++) {
              const k = `${node.level}/${t * 256 + j}`;
              data.set(pending.get(k)!, j * 32);
              pending.delete(k);
            }
            tiles.push({ level: node.level / 8, index: t, data });
          }
        }
      }
    }
    const newSize = size + count;
    const rootHash = range.root();
    const note = signNote(formatCheckpoint({ origin, size: BigInt(newSize), rootHash }), [logSigner], nodeEd25519);
    storage.commitBatchSync({ fromSize: size, entries, nodes, tiles, checkpoint: { size: newSize, rootHash, note } });
    size = newSize;
    onProgress?.(size);
  }
  storage.closeSync();
  return { vkey: formatVerifier(verifierFromSigner(logSigner)), size };
}
