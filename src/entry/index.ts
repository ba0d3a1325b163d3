/**
 * Vitrine entries v1 (FORMATS.md §4): the browser-safe public API — the
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
export { entryFromJson, entryToJson, parseEntryJson, type EntryJson } from './json.js';
