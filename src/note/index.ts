/**
 * Signed notes, keys, checkpoints and cosignatures: c2sp.org/signed-note,
 * c2sp.org/tlog-checkpoint and c2sp.org/tlog-cosignature (docs/formats.md §2, §3,
 * §5). Pure and browser-safe; every verify path takes an Ed25519 backend and
 * defaults to pure-JS noble. See docs/notes.md.
 */
export {
  TYPE_ED25519,
  TYPE_COSIGNATURE,
  type KeyType,
  type Verifier,
  type Signer,
  checkKeyName,
  computeKeyId,
  formatKeyId,
  makeVerifier,
  parseVerifier,
  formatVerifier,
  parseCosignerVerifier,
  cosignerVerifier,
  verifierFromSigner,
  signerFromSeed,
  generateSigner,
  parseSigner,
  formatSigner,
  sameVerifier,
} from './keys.js';
export {
  MAX_SIGNATURES,
  type NoteSignature,
  type ParsedSignature,
  type VerifiedSignature,
  type ParsedNote,
  type OpenedNote,
  type OpenNoteOptions,
  parseNote,
  openNote,
  signNote,
  appendSignatures,
  parseSignature,
  formatSignature,
  checkNoteText,
  cosignatureMessage,
} from './note.js';
export {
  type Checkpoint,
  type CheckpointInput,
  type OpenedCheckpoint,
  parseCheckpoint,
  formatCheckpoint,
  signCheckpoint,
  openCheckpoint,
} from './checkpoint.js';
export {
  type Cosignature,
  type ParsedCosignature,
  cosign,
  parseCosignature,
  verifyCosignature,
  verifyCosignatures,
} from './cosignature.js';
