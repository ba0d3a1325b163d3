/**
 * The registry of entry kinds of version 2 (docs/formats.md §4.3). One line
 * per kind; the identifier is what key 2 of an entry holds.
 */
import type { EntryKind } from '../kind.js';
import { dsseKind } from './dsse.js';
import { ecdsaP256Kind } from './ecdsa-p256.js';
import { sshKind } from './ssh.js';

const KINDS = new Map<string, EntryKind>();

function add(kind: EntryKind): void {
  if (KINDS.has(kind.id)) throw new Error(`entry kind ${kind.id} registered twice`);
  KINDS.set(kind.id, kind);
}

add(ecdsaP256Kind);
add(sshKind);
add(dsseKind);

/** The kind registered under `id`, if any. */
export function findKind(id: string): EntryKind | undefined {
  return KINDS.get(id);
}

/** Every registered kind identifier, sorted. */
export function kindIds(): string[] {
  return [...KINDS.keys()].sort();
}

/**
 * Registers a kind at run time. Only for tests of the generic codec; real
 * kinds are listed above so every reader knows them.
 * @internal
 */
export function _registerKind(kind: EntryKind): void {
  add(kind);
}
