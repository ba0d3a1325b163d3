/**
 * The extension point of entry version 2 (docs/formats.md §4.3): what an
 * entry kind declares so that the generic codec in ./v2.ts can encode,
 * strictly decode, convert to and from JSON, verify and identify it.
 *
 * A kind is a table of body fields (small unsigned-integer CBOR keys, each
 * with a type, a size range and whether it may be absent) plus three pure
 * functions: `check` (every rule the field table cannot express, for
 * example that a key parses), `verify` (the signatures, from what the entry
 * carries, never the artifact) and `signers` (who signed, as native
 * fingerprints). Adding a kind is one file under ./kinds/ and one line in
 * ./kinds/index.ts. Types only: no runtime imports, so kinds and the codec
 * never import each other in a cycle.
 */
import type { Ed25519 } from '../crypto/ed25519.js';
import type { P256 } from '../crypto/p256.js';
import type { Annotations } from './entry.js';

/** CBOR types a body field may have: a byte string, a text string, an unsigned integer, or an array of byte strings. */
export type FieldType = 'bytes' | 'text' | 'uint' | 'bytes-list';

export interface BodyField {
  /** CBOR map key inside the body, 1..23 (one-byte encoding, so numeric order is canonical order). */
  readonly key: number;
  /** The member name in the JSON form and in messages (`entry.body.<name>`). */
  readonly name: string;
  readonly type: FieldType;
  /** Inclusive bounds: bytes of a string (UTF-8 for text), value of a uint, elements of a list. */
  readonly min: number;
  readonly max: number;
  /** For `bytes-list`: bounds on each element's length. */
  readonly itemMin?: number;
  readonly itemMax?: number;
  /** May be absent (never present and empty unless `min` allows it). */
  readonly optional?: boolean;
}

export type BodyValue = Uint8Array | string | number | readonly Uint8Array[];
/** A decoded body: field name → value, only fields the kind declares. */
export type Body = Readonly<Record<string, BodyValue>>;

/** Who signed an entry, in the form the signer's own tool shows. */
export interface Signer {
  readonly algorithm: 'ed25519' | 'ecdsa-p256';
  /** The key's native format: a Vitrine vkey/raw key, an OpenSSH key, a minisign key, or PEM (SPKI). */
  readonly format: 'vitrine' | 'ssh' | 'minisign' | 'pem';
  /**
   * The native fingerprint: `SHA256:<unpadded base64>` of the SSH key blob
   * (as ssh-keygen -l prints it) or of the SPKI DER for PEM keys, the minisign
   * key ID (uppercase hex as minisign prints it, no leading zeros), the hex key hash for Vitrine keys.
   */
  readonly fingerprint: string;
  /** SHA-256 of the key's identity bytes (docs/formats.md §4.4): the key hash of lookups and alerts. */
  readonly keyHash: Uint8Array;
  /** The raw public key (32 bytes Ed25519, the SEC 1 point P-256), whatever format names it: a monitor policy matches a key given in any format by it (only by the fingerprint when absent). */
  readonly key?: Uint8Array;
}

/** The signature backends a kind may use, injected so Node can use node:crypto and browsers stay pure JS. */
export interface Crypto {
  readonly ed: Ed25519;
  /** ECDSA P-256 over SHA-256 of a message; kinds fall back to the pure-JS one (../crypto/p256.ts) when absent. */
  readonly p256?: P256;
}

/** An entry of version 2: the common fields and a kind-specific body. */
export interface EntryV2 {
  readonly version: 2;
  /** The kind's identifier (`ssh`, `minisign`, `ecdsa-p256`, ...). */
  readonly kind: string;
  /** The artifact's name (same rule as version 1). */
  readonly name: string;
  /** SHA-256 of the artifact (32 bytes): what lookups by digest and verifiers match. */
  readonly digest: Uint8Array;
  readonly body: Body;
  readonly annotations?: Annotations;
}

export interface EntryKind {
  readonly id: string;
  /** One line for messages and docs. */
  readonly title: string;
  readonly fields: readonly BodyField[];
  /** Largest encoded entry of this kind, in bytes. */
  readonly maxEntrySize: number;
  /** Checks every rule of the body the field table cannot express. Throws InvalidError naming `entry.body.<field>`. */
  check(entry: EntryV2): void;
  /** Verifies the entry's signature(s) offline. Throws InvalidError with code `bad-signature` when one does not verify. */
  verify(entry: EntryV2, crypto: Crypto): void;
  /** The signers, first the one whose key hash the log indexes. */
  signers(entry: EntryV2): Signer[];
  /**
   * Further artifacts the entry speaks for (an attestation's other
   * subjects): the log finds the entry by each of their digests and names
   * too. Absent for kinds about one artifact.
   */
  subjects?(entry: EntryV2): Array<{ readonly name: string; readonly digest: Uint8Array }>;
  /**
   * A second digest of the artifact that the signature covers, when it is
   * not the SHA-256 (SSH with sha512, minisign's BLAKE2b-512). The log
   * cannot relate it to the SHA-256 without the file, so a verifier holding
   * the artifact must match both.
   */
  artifactHash?(entry: EntryV2): ArtifactHash | undefined;
}

/** An artifact digest in an algorithm other than SHA-256. */
export interface ArtifactHash {
  readonly algorithm: 'sha512' | 'blake2b-512';
  readonly value: Uint8Array;
}
