/**
 * Acceptance per entry kind (docs/formats.md §4.2, §16): what the log does
 * with one submitted leaf of each kind (src/log/service.ts `accept`: strict
 * decode, every signature verified with the Node backends, signers, subjects,
 * leaf hash), next to the raw verify bound of the kind's algorithm measured
 * in the same run, in alternating rounds: a bare node:crypto verify of the
 * same signature(s) over the same bytes with a prepared key. For kinds that
 * verify through @noble/curves P-256 the noble verify is printed too, since
 * that is what bounds them. Inputs are the recorded tool vectors of
 * vectors/native/ (ssh-keygen, minisign, openssl, @sigstore/core), so every
 * run measures the same signatures.
 *
 *     npm run bench -- kinds
 */
import { createHash, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { p256 } from '@noble/curves/nist.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { nodeP256 } from '../../src/crypto/p256-node.js';
import {
  decodeAnyEntry, encodeEntry, encodeEntryV2, entryLeafHash, entrySignedMessage, entrySigners, entrySubjects, signEntry, verifyAnyEntry, type EntryV2,
} from '../../src/entry/index.js';
import { attestationEntry } from '../../src/entry/kinds/dsse.js';
import { nativeEntry, type SignatureFormat } from '../../src/entry/native.js';
import { preAuthEncoding } from '../../src/sig/dsse.js';
import { parseMinisignPublicKey, parseMinisignSignature } from '../../src/sig/minisign.js';
import { parsePemPublicKey } from '../../src/sig/spki.js';
import { dearmorSshSignature, parseSshSignature, sshSignedData } from '../../src/sig/ssh.js';
import { alternatingRates } from './_util.js';

const ROUNDS = 5;
const ROUND_MS = 300;
const rates = (fn: () => unknown, bound: () => unknown): [number, number] =>
  alternatingRates(fn, bound, { rounds: ROUNDS, roundMs: ROUND_MS, batch: 8, warmup: 50 });
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(7);

const DIR = join(process.cwd(), 'vectors/native');
const file = (n: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, n)));
const text = (n: string): string => readFileSync(join(DIR, n), 'utf8');
const artifact = file('artifact.txt');
const digests = {
  sha256: createHash('sha256').update(artifact).digest(),
  sha512: createHash('sha512').update(artifact).digest(),
  blake2b512: createHash('blake2b512').update(artifact).digest(),
};
const NAME = 'pkg:generic/vectors@1.0.0';
const native = (signature: string, format: SignatureFormat, publicKey?: string): Uint8Array =>
  encodeEntryV2(nativeEntry({ signature: file(signature), format, name: NAME, digests, ...(publicKey ? { publicKey: text(publicKey) } : {}) }, nodeEd25519));

/** What LogService.accept does with a leaf (v1 verifies through the same Ed25519 backend here, without the worker pool). */
function accept(leaf: Uint8Array): unknown {
  const any = decodeAnyEntry(leaf);
  verifyAnyEntry(any, { ed: nodeEd25519, p256: nodeP256 });
  const signers = entrySigners(any);
  return [signers[0]!.keyHash, entrySubjects(any), entryLeafHash(leaf)];
}

/** An OpenSSH key blob as a node KeyObject (via its SPKI), for the bound. */
function sshKeyObject(blob: Uint8Array): KeyObject {
  const sig = parseSshSignature(blob);
  const k = sig.publicKey.key;
  const prefix = sig.publicKey.type === 'ssh-ed25519' ? '302a300506032b6570032100' : '3059301306072a8648ce3d020106082a8648ce3d030107034200';
  return createPublicKey({ key: Buffer.concat([Buffer.from(prefix, 'hex'), k]), format: 'der', type: 'spki' });
}
/** r||s as DER, for node:crypto. */
const der = (rs: Uint8Array): Uint8Array => p256.Signature.fromBytes(rs, 'compact').toBytes('der');

interface Row { kind: string; leaf: Uint8Array; bound: () => unknown; boundName: string; noble?: () => unknown }
const rows: Row[] = [];

// v1: Vitrine Ed25519 over its signed message.
{
  const seed = new Uint8Array(32).fill(7);
  const e = signEntry({ name: NAME, digest: digests.sha256 }, seed, nodeEd25519);
  const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), e.key]), format: 'der', type: 'spki' });
  const msg = entrySignedMessage(e);
  rows.push({ kind: 'v1 (vitrine sign)', leaf: encodeEntry(e), bound: () => nodeVerify(null, msg, key, e.sig), boundName: 'Ed25519 verify of the signed message' });
}
// ecdsa-p256: the entry holds the digest, so its signature is checked on the digest.
{
  const leaf = native('ecdsa.der.sig', 'ecdsa', 'ecdsa.pub.pem');
  const key = parsePemPublicKey(text('ecdsa.pub.pem'));
  const keyObj = createPublicKey(text('ecdsa.pub.pem'));
  const sig = file('ecdsa.der.sig');
  rows.push({
    kind: 'ecdsa-p256', leaf, bound: () => nodeVerify('sha256', artifact, keyObj, sig), boundName: 'P-256 verify (node:crypto, hashing the 44 B artifact)',
    noble: () => p256.verify(sig, digests.sha256, key.key, { prehash: false, lowS: false, format: 'der' }),
  });
}
// ssh: the key signs the SSHSIG signed data (Ed25519 directly; ECDSA over its SHA-256).
for (const type of ['ed25519', 'ecdsa'] as const) {
  const blob = dearmorSshSignature(text(`ssh-${type}-sha512.sig`));
  const sig = parseSshSignature(blob);
  const data = sshSignedData(sig, digests.sha512);
  const keyObj = sshKeyObject(blob);
  const leaf = native(`ssh-${type}-sha512.sig`, 'ssh');
  if (type === 'ed25519') {
    rows.push({ kind: 'ssh ssh-ed25519', leaf, bound: () => nodeVerify(null, data, keyObj, sig.signature), boundName: 'Ed25519 verify of the signed data' });
  } else {
    const d = der(sig.signature);
    rows.push({
      kind: 'ssh ecdsa-sha2-nistp256', leaf, bound: () => nodeVerify('sha256', data, keyObj, d), boundName: 'P-256 verify of the signed data (node:crypto)',
      noble: () => p256.verify(sig.signature, data, sig.publicKey.key, { prehash: true, lowS: false, format: 'compact' }),
    });
  }
}
// minisign: two Ed25519 verifications (the hash, then the global signature over signature || comment).
{
  const key = parseMinisignPublicKey(text('minisign.pub'));
  const ms = parseMinisignSignature(file('minisign.minisig'));
  const keyObj = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), key.key]), format: 'der', type: 'spki' });
  const global = Buffer.concat([ms.signature, ms.trustedComment]);
  rows.push({
    kind: 'minisign', leaf: native('minisign.minisig', 'minisign', 'minisign.pub'),
    bound: () => nodeVerify(null, digests.blake2b512, keyObj, ms.signature) && nodeVerify(null, global, keyObj, ms.globalSignature), boundName: '2 Ed25519 verifies (hash, global)',
  });
}
// dsse: one Ed25519 and one P-256 signature over PAE, each key checked.
{
  const pems = ['dsse-ed25519.pub.pem', 'dsse-p256.pub.pem'].map(text);
  const e: EntryV2 = attestationEntry(file('dsse.intoto.json'), pems);
  const pae = preAuthEncoding(e.body.payloadType as string, e.body.payload as Uint8Array);
  const [edKey, ecKey] = pems.map((p) => createPublicKey(p));
  const [edSig, ecSig] = e.body.signatures as Uint8Array[];
  rows.push({
    kind: 'dsse (Ed25519 + P-256)', leaf: encodeEntryV2(e),
    bound: () => nodeVerify(null, pae, edKey!, edSig!) && nodeVerify('sha256', pae, ecKey!, ecSig!), boundName: 'Ed25519 + P-256 verify of PAE (node:crypto)',
  });
}

console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} threads); best of ${ROUNDS} alternating rounds of ${ROUND_MS} ms; load average ${loadavg()[0]!.toFixed(2)}`);
console.log('acceptance = strict decode + every signature verified (Node backends) + signers + subjects + leaf hash, as the log does per submission');
for (const r of rows) {
  if (!r.bound()) throw new Error(`${r.kind}: the bound's verify failed`);
  accept(r.leaf);
  const [a, b] = rates(() => accept(r.leaf), r.bound);
  let line = `${r.kind.padEnd(24)} ${String(r.leaf.length).padStart(5)} B  accepted ${fmt(a)}/s   bound ${fmt(b)}/s (${r.boundName})   ${((a / b) * 100).toFixed(0).padStart(3)}%`;
  if (r.noble) {
    const [, n] = rates(() => undefined, r.noble);
    line += `; @noble/curves P-256 verify: ${fmt(n).trim()}/s`;
  }
  console.log(line);
}
