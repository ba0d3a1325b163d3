/**
 * Vitrine entries v1 (docs/formats.md §4): the browser-safe public API — the
 * deterministic CBOR codec with strict validation, the signed message, sign
 * and verify, the JSON form and the derived identifiers. The Node-only
 * streaming file digest lives in ./digest.ts and is deliberately not
 * re-exported here.
 */
export {
  ENTRY_VERSION,
  MAX_ANNOTATIONS,
  MAX_ENTRY_SIZE,
  decodeEntry,
  encodeEntry,
  entryLeafHash,
  keyHash,
  type Annotations,
  type Entry,
  type EntryFields,
  type UnsignedEntry,
} from './entry.js';
export { ENTRY_SIGNATURE_PREFIX, entrySignedMessage, parseAndVerifyEntry, signEntry, verifyEntrySignature } from './message.js';
export { entryFromJson, entryToJson, parseAnyEntryJson, parseEntryJson, type EntryJson } from './json.js';
export { ENTRY_VERSION_2, MAX_ENTRY_V2_SIZE, checkEntryV2, decodeEntryV2, encodeEntryV2, entryV2FromJson, entryV2ToJson, isEntryV2, kindOf, type EntryV2Json } from './v2.js';
export type { ArtifactHash, Body, BodyField, BodyValue, Crypto, EntryKind, EntryV2, FieldType, Signer } from './kind.js';
export { decodeAnyEntry, entryAnnotations, entryArtifactHash, entryDigest, entryKind, entryName, entrySigners, entrySubjects, verifyAnyEntry, type AnyEntry } from './any.js';
export { findKind, kindIds } from './kinds/index.js';
