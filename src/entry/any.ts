/**
 * Every entry version behind one view (docs/formats.md §4): decode leaf
 * bytes of version 1 or 2, name their signers, verify their signatures.
 * The log, the verifier (src/proof) and the monitor read entries through
 * this module, so a new kind needs no change there. Pure and browser-safe.
 */
import { sha256 } from '../../merkle/hash.js';
import { bytesEqual, hexEncode } from '../encoding.js';
import { InvalidError } from '../errors.js';
import { checkName, decodeEntry, type Annotations, type Entry } from './entry.js';
import type { ArtifactHash, Crypto, EntryV2, Signer } from './kind.js';
import { entrySignedMessage } from './message.js';
import { decodeEntryV2, isEntryV2, kindOf } from './v2.js';

/** A decoded entry of either version, with the fields every reader needs. */
export type AnyEntry = { readonly version: 1; readonly entry: Entry } | { readonly version: 2; readonly entry: EntryV2 };

/** Decodes leaf bytes of any version strictly (version 1 by `decodeEntry`, version 2 by `decodeEntryV2`). */
export function decodeAnyEntry(bytes: Uint8Array): AnyEntry {
  if (bytes instanceof Uint8Array && isEntryV2(bytes)) return { version: 2, entry: decodeEntryV2(bytes) };
  return { version: 1, entry: decodeEntry(bytes) };
}

export function entryName(e: AnyEntry): string {
  return e.entry.name;
}

export function entryDigest(e: AnyEntry): Uint8Array {
  return e.entry.digest;
}

export function entryAnnotations(e: AnyEntry): Annotations | undefined {
  return e.entry.annotations;
}

/** The kind: `vitrine` for version 1, the kind identifier for version 2. */
export function entryKind(e: AnyEntry): string {
  return e.version === 1 ? 'vitrine' : e.entry.kind;
}

/** The second artifact digest a verifier holding the file must also match (SSH sha512, minisign), if the kind has one. */
export function entryArtifactHash(e: AnyEntry): ArtifactHash | undefined {
  if (e.version === 1) return undefined;
  return kindOf(e.entry.kind).artifactHash?.(e.entry);
}

/** The signers of an entry, the indexed one first. */
export function entrySigners(e: AnyEntry): Signer[] {
  if (e.version === 1) {
    const kh = sha256(e.entry.key);
    return [{ algorithm: 'ed25519', format: 'vitrine', fingerprint: hexEncode(kh), keyHash: kh, key: e.entry.key }];
  }
  return kindOf(e.entry.kind).signers(e.entry);
}

/**
 * The (digest, name) pairs besides the entry's own that lookups find it
 * by: the other subjects of an attestation. A name that breaks the entry
 * name rules (docs/formats.md §4) is left out (undefined) so that only
 * names an entry could carry are indexed; the digest still is.
 */
export function entrySubjects(e: AnyEntry): Array<{ digest: Uint8Array; name: string | undefined }> {
  if (e.version === 1) return [];
  const kind = kindOf(e.entry.kind);
  if (kind.subjects === undefined) return [];
  const out: Array<{ digest: Uint8Array; name: string | undefined }> = [];
  const own = e.entry;
  for (const s of kind.subjects(own)) {
    let name: string | undefined;
    try {
      name = checkName(s.name);
    } catch {
      name = undefined;
    }
    // The entry's own (digest, name) is indexed already.
    if (bytesEqual(s.digest, own.digest) && (name === undefined || name === own.name)) continue;
    if (out.some((o) => bytesEqual(o.digest, s.digest) && o.name === name)) continue;
    out.push({ digest: s.digest, name });
  }
  return out;
}

/**
 * Verifies every signature of the entry offline. Throws InvalidError with
 * code `bad-signature` (naming the kind) when one does not verify.
 */
export function verifyAnyEntry(e: AnyEntry, crypto: Crypto): void {
  if (e.version === 1) {
    if (!crypto.ed.verify(e.entry.key, entrySignedMessage(e.entry), e.entry.sig)) {
      throw new InvalidError('entry.sig: Ed25519 signature does not verify over the signed message (docs/formats.md §4)', 'bad-signature');
    }
    return;
  }
  kindOf(e.entry.kind).verify(e.entry, crypto);
}
