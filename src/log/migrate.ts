/**
 * `vitrine migrate`: copies a SQLite log into a new PostgreSQL database
 * (issue 10 §4), keeping its tree, key and witness state, so an operator
 * who outgrows SQLite keeps the same log.
 *
 * Nothing is trusted on the way: the last signed checkpoint must verify
 * with the log's key and origin; every entry's leaf hash is recomputed from
 * its bytes (RFC 9162 §2.1.1) and the tree rebuilt from them must have the
 * checkpoint's size and root; and the right edge of the copied nodes must
 * give that root too. All of it happens inside the one transaction that
 * writes the copy, so a failed check leaves the target database empty, and
 * the source directory is locked (and never written) throughout.
 */
import { CompactRange, sha256 } from '../../merkle/index.js';
import type { Ed25519 } from './../crypto/ed25519.js';
import { b64encode, bytesEqual } from '../encoding.js';
import { formatVerifier, openCheckpoint, type Verifier } from '../note/index.js';
import { StartupError, type EntryRecord, type LogExport } from './storage.js';
import type { PostgresStorage } from './storage/postgres.js';
import type { SqliteStorage } from './storage/sqlite.js';

export interface MigrateResult {
  size: number;
  rootHash: Uint8Array;
  entries: number;
}

/** The leaf hash of entry bytes: SHA-256(0x00 || data). */
function leafHash(data: Uint8Array): Uint8Array {
  const buf = new Uint8Array(data.length + 1);
  buf.set(data, 1);
  return sha256(buf);
}

export async function migrateLog(o: { from: SqliteStorage; to: PostgresStorage; origin: string; verifier: Verifier; ed: Ed25519 }): Promise<MigrateResult> {
  const identity = await o.from.identity();
  if (identity === undefined) throw new StartupError('the source directory holds no log (no origin recorded)');
  if (identity.origin !== o.origin) throw new StartupError(`the source log is for origin ${identity.origin}, not ${o.origin}`);
  const vkey = formatVerifier(o.verifier);
  if (identity.verifierKey !== undefined && identity.verifierKey !== vkey) {
    throw new StartupError(`the source log was made with the log key ${identity.verifierKey}, not ${vkey}`);
  }
  const last = await o.from.writer.latestCheckpoint();
  if (last === undefined) throw new StartupError('the source log never published a checkpoint: there is nothing to migrate');
  let signed;
  try {
    signed = openCheckpoint(last.note, o.verifier, o.ed);
  } catch (err) {
    throw new StartupError(`the source log's last checkpoint does not verify with this key: ${(err as Error).message}`);
  }
  if (signed.origin !== o.origin || signed.size !== BigInt(last.size) || !bytesEqual(signed.rootHash, last.rootHash)) {
    throw new StartupError('the source log\'s last checkpoint row disagrees with its signed note');
  }

  const src = o.from.exportLog({ origin: identity.origin, verifierKey: vkey });
  const range = new CompactRange();
  const entries = (function* (): Generator<EntryRecord> {
    for (const e of src.entries) {
      if (e.index !== Number(range.size)) throw new StartupError(`the source log has no entry ${range.size} (next is ${e.index})`);
      if (!bytesEqual(leafHash(e.data), e.leafHash)) throw new StartupError(`entry ${e.index}'s stored leaf hash is not the hash of its bytes`);
      range.append(e.leafHash);
      yield e;
    }
  })();
  const checked: LogExport = { ...src, entries };
  const copied = await o.to.importLog(checked, (size, edge) => {
    if (size !== last.size) throw new StartupError(`the copy's newest checkpoint has size ${size}, not ${last.size}`);
    if (Number(range.size) !== last.size) throw new StartupError(`the source log holds ${range.size} entries but its last signed checkpoint has size ${last.size}`);
    if (!bytesEqual(range.root(), last.rootHash)) {
      throw new StartupError(`the tree rebuilt from the entries has root ${b64encode(range.root())}, not the signed ${b64encode(last.rootHash)}`);
    }
    const fromEdge = new CompactRange(BigInt(size), edge).root();
    if (!bytesEqual(fromEdge, last.rootHash)) throw new StartupError('the copied tree nodes do not give the signed root');
  });
  return { size: last.size, rootHash: last.rootHash, entries: copied };
}
