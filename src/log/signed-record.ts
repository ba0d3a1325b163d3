/**
 * The record of the newest checkpoint this log has signed, kept OUTSIDE its
 * database (issue 10 §5, docs/operations.md "Rollback protection"). A
 * database can go back in time behind the log's back: a lost `log.db-wal`,
 * a restored backup, a PostgreSQL point-in-time restore. The record cannot
 * go back with it, so start-up compares the two and refuses a store that is
 * behind what the log key has already signed; signing on top of it would be
 * a split view (docs/formats.md, c2sp.org/tlog-checkpoint).
 *
 * The record is the signed checkpoint note itself. It is replaced
 * atomically (temporary file, fsync, rename, fsync of the directory) after
 * a batch's transaction is durable and BEFORE its checkpoint is handed to
 * anyone, so every checkpoint that ever left the process is at most as new
 * as the record.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Ed25519 } from '../crypto/ed25519.js';
import { b64encode, bytesEqual } from '../encoding.js';
import { openCheckpoint, type Verifier } from '../note/index.js';
import { StartupError, type CheckpointRecord } from './storage.js';

/** Where the operations guide explains what to do when start-up refuses. */
export const RECOVERY_DOC = 'docs/operations.md, section "Rollback protection: when the store is behind"';

/** The newest signed checkpoint from the record, or undefined if there is no record yet. */
export function readSignedRecord(path: string, origin: string, verifier: Verifier, ed: Ed25519): { size: number; rootHash: Uint8Array; note: string } | undefined {
  let note: string;
  try {
    note = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StartupError(`cannot read the signed-checkpoint record ${path}: ${(err as Error).message}`);
  }
  let parsed;
  try {
    parsed = openCheckpoint(note, verifier, ed);
  } catch (err) {
    throw new StartupError(`the signed-checkpoint record ${path} does not hold a checkpoint signed by this log's key: ${(err as Error).message}`);
  }
  if (parsed.origin !== origin) throw new StartupError(`the signed-checkpoint record ${path} is for origin ${parsed.origin}, not ${origin}`);
  return { size: Number(parsed.size), rootHash: parsed.rootHash, note };
}

/**
 * Refuses a store whose latest checkpoint is behind the record, or of the
 * same size with another root. A store ahead of the record is fine: a
 * crash can come between the commit and the record's write, and that
 * checkpoint was never handed out.
 */
export function checkAgainstRecord(path: string, record: { size: number; rootHash: Uint8Array }, stored: { size: number; rootHash: Uint8Array } | undefined): void {
  const size = stored?.size ?? 0;
  if (size < record.size) {
    throw new StartupError(
      `the store is behind the newest checkpoint this log has signed: the store's latest checkpoint has size ${size}, ` +
        `but the log signed size ${record.size} (recorded in ${path}). Signing now would fork the log. ` +
        `The store was rolled back (lost WAL, restored backup or point-in-time restore); see ${RECOVERY_DOC}`,
    );
  }
  if (stored !== undefined && size === record.size && !bytesEqual(stored.rootHash, record.rootHash)) {
    throw new StartupError(
      `the store's checkpoint of size ${size} has root ${b64encode(stored.rootHash)}, but the log signed root ${b64encode(record.rootHash)} ` +
        `for that size (recorded in ${path}): the log was forked; see ${RECOVERY_DOC}`,
    );
  }
}

/** Replaces the record with `checkpoint`, durably and atomically. */
export async function writeSignedRecord(path: string, checkpoint: CheckpointRecord): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(checkpoint.note);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  // The rename itself is durable only once the directory is.
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
