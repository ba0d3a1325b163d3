/** The recorded DSSE vectors (vectors/dsse, made by openssl and @sigstore/core) on both signature backends. */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import { nobleP256 } from '../../src/crypto/p256.js';
import { nodeP256 } from '../../src/crypto/p256-node.js';
import { VitrineError } from '../../src/errors.js';
import { checkAttestation } from '../../src/sig/attestation.js';
import { rootPath } from '../_root.js';

interface Case {
  description: string;
  envelope: string;
  keys: string[];
  predicateType?: string;
  builderId?: string | null;
  subjects?: { name: string; sha256: string | null }[];
  signaturesByKey?: number[][];
  error?: string;
  message?: string;
}
const file = rootPath('vectors/dsse/vectors.json');
const vectors = JSON.parse(readFileSync(file, 'utf8')) as { good: Case[]; bad: Case[] };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

t.ok(vectors.good.length >= 6 && vectors.bad.length >= 8, 'the vector file has its cases');
for (const [backend, ed] of [['node:crypto', { ed25519: nodeEd25519, p256: nodeP256 }], ['noble', { ed25519: nobleEd25519, p256: nobleP256 }]] as const) {
  t.test(`accepted vectors (${backend})`, async (t) => {
    for (const c of vectors.good) {
      const got = checkAttestation(enc(c.envelope), c.keys, ed);
      t.equal(got.statement.predicateType, c.predicateType, `${c.description}: predicateType`);
      t.equal(got.statement.builderId ?? null, c.builderId, `${c.description}: builder id`);
      t.same(
        got.statement.subjects.map((s) => ({ name: s.name, sha256: s.sha256 ? Buffer.from(s.sha256).toString('hex') : null })),
        c.subjects,
        `${c.description}: subjects`,
      );
      t.same(got.matches.map((m) => m.signatures), c.signaturesByKey, `${c.description}: signatures by key`);
    }
  });
  t.test(`refused vectors (${backend})`, async (t) => {
    for (const c of vectors.bad) {
      try {
        checkAttestation(enc(c.envelope), c.keys, ed);
        t.fail(`${c.description}: accepted`);
      } catch (err) {
        t.ok(err instanceof VitrineError, `${c.description}: typed error`);
        t.equal((err as Error).name, c.error, `${c.description}: ${c.error}`);
        t.ok((err as Error).message.includes(c.message!), `${c.description}: "${(err as Error).message}" says "${c.message}"`);
      }
    }
  });
}
