/**
 * DSSE attestation benchmark (src/sig): checking one submitted attestation
 * (key parse, strict envelope parse, signature check over PAE, Statement
 * parse) per key kind, next to the bound of its algorithm measured in the
 * same run: a bare node:crypto verify of the same signature over the same PAE
 * bytes with a prepared key (the backends Node uses), and @noble/curves
 * P-256 (the browser path) for reference.
 * Envelopes come from openssl and @sigstore/core, as in the tests.
 *
 *     npm run bench -- dsse
 */
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { p256 } from '@noble/curves/nist.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { nodeP256 } from '../../src/crypto/p256-node.js';
import { checkAttestation } from '../../src/sig/attestation.js';
import { parseEnvelope, preAuthEncoding } from '../../src/sig/dsse.js';
import { parsePemPublicKey } from '../../src/sig/spki.js';
import { bytes, IN_TOTO, OpensslDir, statement } from '../sig/_openssl.js';
import { alternatingRates } from './_util.js';

const ROUNDS = 5;
const ROUND_MS = 300;
const rates = (fn: () => unknown, bound: () => unknown): [number, number] =>
  alternatingRates(fn, bound, { rounds: ROUNDS, roundMs: ROUND_MS, batch: 8, warmup: 50 });
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

const ssl = new OpensslDir();
const payload = bytes(statement());
console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} threads); best of ${ROUNDS} alternating rounds of ${ROUND_MS} ms; load average ${loadavg()[0]!.toFixed(2)}`);
console.log(`envelope with one SLSA v1 Statement (${payload.length} B payload)`);
for (const kind of ['ed25519', 'p256'] as const) {
  const key = ssl.key(kind);
  const text = new TextEncoder().encode(ssl.envelope(IN_TOTO, payload, [key]));
  const env = parseEnvelope(text);
  const pae = preAuthEncoding(env.payloadType, env.payload);
  const sig = env.signatures[0]!.sig;
  const nodeKey = createPublicKey(key.publicPem);
  const raw = parsePemPublicKey(key.publicPem).key;
  const check = () => checkAttestation(text, [key.publicPem], { ed25519: nodeEd25519, p256: nodeP256 });
  if (kind === 'ed25519') {
    const [a, b] = rates(check, () => nodeVerify(null, pae, nodeKey, sig));
    console.log(`Ed25519 attestation accepted: ${fmt(a)}/s   bound, node:crypto Ed25519 verify of the same PAE: ${fmt(b)}/s   (${((a / b) * 100).toFixed(0)}%)`);
  } else {
    const [a, b] = rates(check, () => nodeVerify('sha256', pae, nodeKey, sig));
    const [, n] = rates(() => undefined, () => p256.verify(sig, pae, raw, { prehash: true, lowS: false, format: 'der' }));
    console.log(`P-256 attestation accepted:   ${fmt(a)}/s   bound, node:crypto P-256 verify of the same PAE: ${fmt(b)}/s   (${((a / b) * 100).toFixed(0)}%); @noble/curves verify (browser path): ${fmt(n)}/s`);
  }
}
ssl.remove();
