/**
 * The recorded native vectors (vectors/native/, made by make.sh from the real
 * ssh-keygen, minisign, openssl and @sigstore/core): every accepted
 * signature makes an entry (docs/formats.md §16) that decodes, re-encodes to
 * the same bytes and verifies on both backends, with the fingerprint,
 * digests, subjects and PAE the tools recorded; every single-byte change of
 * the signed material, and another file's digests, are refused; every
 * refused vector is refused with a typed error saying why.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import { nodeP256 } from '../../src/crypto/p256-node.js';
import { nobleP256 } from '../../src/crypto/p256.js';
import {
  decodeAnyEntry, encodeEntryV2, entrySigners, entrySubjects, entryV2FromJson, entryV2ToJson, verifyAnyEntry, type Crypto, type EntryV2,
} from '../../src/entry/index.js';
import { attestationEntry, dsseStatement } from '../../src/entry/kinds/dsse.js';
import { nativeEntry, type ArtifactDigests, type SignatureFormat } from '../../src/entry/native.js';
import { VitrineError } from '../../src/errors.js';
import { preAuthEncoding } from '../../src/sig/dsse.js';
import { withoutStacks } from '../fuzz-helpers.js';

const DIR = join(process.cwd(), 'vectors/native');
/** A copy as a plain Uint8Array (Buffer.slice shares memory: a mutated copy would change the original). */
const file = (name: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, name)));
const fileText = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

interface Vector {
  id: string;
  format: SignatureFormat | 'dsse';
  signature?: string;
  publicKey?: string;
  namespace?: string;
  hash?: 'sha256' | 'sha512' | 'blake2b512';
  fingerprint?: string;
  trustedComment?: string;
  sameKeyAs?: string;
  spkiSha256Fingerprint?: string;
  envelope?: string;
  pae?: string;
  publicKeys?: string[];
  fingerprints?: string[];
  subjects?: Array<{ name: string; sha256: string }>;
  predicateType?: string;
  builderId?: string;
  reason?: string;
}
const manifest = JSON.parse(fileText('vectors.json')) as {
  artifact: { file: string; sha256: string; sha512: string; blake2b512: string };
  accepted: Vector[];
  refused: Vector[];
};

const artifact = file(manifest.artifact.file);
const digestsOf = (bytes: Uint8Array): ArtifactDigests => ({
  sha256: createHash('sha256').update(bytes).digest(),
  sha512: createHash('sha512').update(bytes).digest(),
  blake2b512: createHash('blake2b512').update(bytes).digest(),
});
const digests = digestsOf(artifact);
const otherDigests = digestsOf(Buffer.concat([artifact, Buffer.from('x')]));
const NAME = 'pkg:generic/vectors@1.0.0';

const backends: Array<[string, Crypto]> = [
  ['node', { ed: nodeEd25519, p256: nodeP256 }],
  ['noble', { ed: nobleEd25519, p256: nobleP256 }],
];

function build(v: Vector, d: ArtifactDigests = digests): EntryV2 {
  if (v.format === 'dsse') {
    return attestationEntry(file(v.envelope!), v.publicKeys!.map(fileText));
  }
  return nativeEntry({
    signature: file(v.signature!),
    format: v.format,
    name: NAME,
    digests: d,
    ...(v.publicKey === undefined ? {} : { publicKey: fileText(v.publicKey) }),
    ...(v.namespace === undefined ? {} : { namespace: v.namespace }),
  }, nodeEd25519);
}

function typedError(f: () => unknown): VitrineError | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof VitrineError) return err;
    throw err;
  }
  return undefined;
}

/** Refused by the strict decoder or by verification of the re-encoded entry. */
function refused(e: EntryV2, crypto: Crypto): boolean {
  try {
    verifyAnyEntry(decodeAnyEntry(encodeEntryV2(e)), crypto);
    return false;
  } catch (err) {
    if (!(err instanceof VitrineError)) throw err;
    return true;
  }
}

t.test('the manifest digests are those of the artifact', async (t) => {
  t.equal(hex(digests.sha256), manifest.artifact.sha256, 'sha256sum');
  t.equal(hex(digests.sha512), manifest.artifact.sha512, 'sha512sum');
  t.equal(hex(digests.blake2b512), manifest.artifact.blake2b512, 'b2sum');
  t.ok(manifest.accepted.length >= 10 && manifest.refused.length >= 10, 'all vectors are there');
});

for (const v of manifest.accepted) {
  t.test(`accepted: ${v.id}`, async (t) => {
    const entry = build(v);
    const leaf = encodeEntryV2(entry);
    const back = decodeAnyEntry(leaf);
    t.equal(back.version, 2);
    t.same(encodeEntryV2(back.entry as EntryV2), leaf, 'CBOR round trip');
    t.same(encodeEntryV2(entryV2FromJson(JSON.parse(JSON.stringify(entryV2ToJson(entry))))), leaf, 'JSON round trip');
    for (const [name, crypto] of backends) {
      t.doesNotThrow(() => verifyAnyEntry(back, crypto), `verifies on ${name}`);
    }
    const signers = entrySigners(back);
    if (v.format === 'dsse') {
      t.same(signers.map((s) => s.fingerprint).sort(), [...v.fingerprints!].sort(), 'one signer per key, named as openssl + sha256 name it');
      t.equal(hex(entry.digest), v.subjects![0]!.sha256, 'the first subject is the entry');
      t.equal(entry.name, v.subjects![0]!.name);
      t.same(entrySubjects(back).map((s) => [s.name, hex(s.digest)]), v.subjects!.slice(1).map((s) => [s.name, s.sha256]), 'the other subject is a lookup');
      const st = dsseStatement(back.entry as EntryV2);
      t.equal(st.predicateType, v.predicateType);
      t.equal(st.builderId, v.builderId);
      t.same(preAuthEncoding(entry.body.payloadType as string, entry.body.payload as Uint8Array), file(v.pae!), "PAE is @sigstore/core's byte for byte");
    } else {
      t.equal(hex(entry.digest), manifest.artifact.sha256);
      if (v.sameKeyAs === undefined) {
        t.equal(signers[0]!.fingerprint, v.fingerprint, 'the fingerprint the tool prints');
      } else {
        // One key, two DER spellings, one name: the uncompressed key's (docs/formats.md §14).
        const other = manifest.accepted.find((o) => o.id === v.sameKeyAs)!;
        t.equal(signers[0]!.fingerprint, other.fingerprint, 'named as the uncompressed key');
        t.not(signers[0]!.fingerprint, v.spkiSha256Fingerprint, 'not by the hash of its compressed DER');
      }
      if (v.hash !== undefined) t.equal(hex(entry.body.hash as Uint8Array), (manifest.artifact as Record<string, string>)[v.hash], `the signed ${v.hash}`);
      if (v.trustedComment !== undefined) t.equal(Buffer.from(entry.body.comment as Uint8Array).toString('utf8'), v.trustedComment);
      t.ok(typedError(() => build(v, otherDigests)), "another file's digests are refused before an entry is made");
    }

    // Every single-byte change of the signed body is refused. keyids are
    // unauthenticated hints (docs/formats.md §15), so they are not mutated.
    let changes = 0;
    const accepted: string[] = [];
    // Thousands of expected refusals: no stacks captured for them (test/fuzz-helpers.ts).
    withoutStacks(() => {
      for (const [field, value] of Object.entries(entry.body)) {
        if (field === 'keyids') continue;
        const items = value instanceof Uint8Array ? [value] : Array.isArray(value) ? (value as Uint8Array[]) : [];
        items.forEach((item, j) => {
          for (let i = 0; i < item.length; i++) {
            const m = item.slice();
            m[i] ^= i % 2 === 0 ? 0x01 : 0x80;
            const mutated = value instanceof Uint8Array ? m : (value as Uint8Array[]).map((x, k) => (k === j ? m : x));
            changes++;
            if (!refused({ ...entry, body: { ...entry.body, [field]: mutated } }, backends[changes % 2]![1])) accepted.push(`${field}[${j}][${i}]`);
          }
        });
      }
    });
    t.same(accepted, [], `all ${changes} single-byte changes refused`);
    // Every single-byte change of the leaf is refused, or decodes to an
    // entry whose signed body is the same (only the name, annotations, the
    // digest where the signature covers another hash, or a keyid hint differ).
    const signedBody = (e: EntryV2): string => JSON.stringify({ ...entryV2ToJson(e).body, keyids: undefined });
    const body = signedBody(entry);
    const leafAccepted: number[] = [];
    withoutStacks(() => {
      for (let i = 0; i < leaf.length; i++) {
        const m = leaf.slice();
        m[i] ^= 0x01;
        try {
          const d = decodeAnyEntry(m);
          verifyAnyEntry(d, backends[i % 2]![1]);
          if (d.version !== 2 || signedBody(d.entry) !== body) leafAccepted.push(i);
        } catch (err) {
          if (!(err instanceof VitrineError)) throw err;
        }
      }
    });
    t.same(leafAccepted, [], `all ${leaf.length} single-byte changes of the leaf refused or leave the signed body unchanged`);
    if (v.format === 'ecdsa' || v.format === 'dsse' || v.hash === 'sha256') {
      const d = entry.digest.slice();
      d[0] ^= 1;
      t.ok(refused({ ...entry, digest: d }, backends[0]![1]), 'a changed digest is refused (the signature covers it)');
    }
  });
}

const reasons: Record<string, RegExp> = {
  'ssh-wrong-namespace': /namespace "git", not "file"/,
  'ssh-swapped-key': /not by the given public key SHA256:/,
  'ssh-rsa': /RSA SSH keys are not supported/,
  'ssh-truncated-armor': /END SSH SIGNATURE/,
  'minisign-legacy': /legacy.*cannot be checked without the file|without the file/i,
  'minisign-swapped-key': /made by minisign key [0-9A-F]{1,16}, not by the given public key [0-9A-F]{1,16}/,
  'minisign-pem-key': /a PEM "PUBLIC KEY" block is not a minisign public key/,
  'ecdsa-swapped-key': /does not verify|not by the given/,
  'ecdsa-rsa-key': /RSA/,
  'ecdsa-truncated-pem': /END PUBLIC KEY/,
  'dsse-rsa-key': /RSA/,
  'dsse-stranger': /no signature by the submitted ECDSA P-256 key SHA256:/,
};

for (const v of manifest.refused) {
  t.test(`refused: ${v.id} (${v.reason})`, async (t) => {
    const pattern = reasons[v.id];
    t.ok(pattern, 'the test knows why this vector is refused');
    let error: unknown;
    try {
      const e = build(v);
      verifyAnyEntry(decodeAnyEntry(encodeEntryV2(e)), backends[0]![1]);
    } catch (err) {
      error = err;
    }
    t.ok(error instanceof VitrineError, `a typed error: ${String(error)}`);
    t.match((error as Error).message, pattern!);
  });
}
