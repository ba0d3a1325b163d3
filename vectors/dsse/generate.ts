/**
 * Records the DSSE / in-toto vectors in vectors/dsse/vectors.json with tools
 * that are not Vitrine's: keys from `openssl genpkey`, PAE from
 * @sigstore/core's preAuthEncoding, signatures from `openssl pkeyutl -sign
 * -rawin` (Ed25519) and `openssl pkeyutl -sign -rawin -digest sha256` (ECDSA
 * P-256, DER). Every case records the commands that made it. ECDSA
 * signatures are randomised, so re-running gives new, equally valid bytes.
 *
 *     npx tsx vectors/dsse/generate.ts
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytes, IN_TOTO, OpensslDir, statement } from '../../test/sig/_openssl.js';

const ssl = new OpensslDir();
const ed = ssl.key('ed25519');
const ec = ssl.key('p256');
const stranger = ssl.key('ed25519');

const COMMANDS = {
  ed25519: [
    'openssl genpkey -algorithm ed25519 -out ed.pem',
    'openssl pkey -in ed.pem -pubout',
    'PAE (node): require("@sigstore/core").dsse.preAuthEncoding(payloadType, payload) > pae',
    'openssl pkeyutl -sign -rawin -inkey ed.pem -in pae',
  ],
  p256: [
    'openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem',
    'openssl pkey -in ec.pem -pubout',
    'PAE (node): require("@sigstore/core").dsse.preAuthEncoding(payloadType, payload) > pae',
    'openssl pkeyutl -sign -rawin -digest sha256 -inkey ec.pem -in pae',
  ],
};

interface Case {
  description: string;
  envelope: string;
  keys: string[];
  /** For accepted cases. */
  predicateType?: string;
  builderId?: string | null;
  subjects?: { name: string; sha256: string | null }[];
  signaturesByKey?: number[][];
  /** For refused cases: the error class and a fragment of its message. */
  error?: string;
  message?: string;
}

const good: Case[] = [];
const bad: Case[] = [];
const subjects = (st: Record<string, unknown>) =>
  (st.subject as { name: string; digest: Record<string, string> }[]).map((s) => ({ name: s.name, sha256: s.digest.sha256 ?? null }));

const slsa = statement();
good.push({ description: 'SLSA v1 provenance, Ed25519', envelope: ssl.envelope(IN_TOTO, bytes(slsa), [ed], true), keys: [ed.publicPem], predicateType: 'https://slsa.dev/provenance/v1', builderId: 'https://github.com/actions/runner', subjects: subjects(slsa), signaturesByKey: [[0]] });
good.push({ description: 'SLSA v1 provenance, ECDSA P-256 (DER)', envelope: ssl.envelope(IN_TOTO, bytes(slsa), [ec]), keys: [ec.publicPem], predicateType: 'https://slsa.dev/provenance/v1', builderId: 'https://github.com/actions/runner', subjects: subjects(slsa), signaturesByKey: [[0]] });
good.push({ description: 'two signatures, both keys submitted in the other order', envelope: ssl.envelope(IN_TOTO, bytes(slsa), [ed, ec]), keys: [ec.publicPem, ed.publicPem], predicateType: 'https://slsa.dev/provenance/v1', builderId: 'https://github.com/actions/runner', subjects: subjects(slsa), signaturesByKey: [[1], [0]] });
good.push({ description: 'a signature by a key not submitted is carried but not checked', envelope: ssl.envelope(IN_TOTO, bytes(slsa), [stranger, ed]), keys: [ed.publicPem], predicateType: 'https://slsa.dev/provenance/v1', builderId: 'https://github.com/actions/runner', subjects: subjects(slsa), signaturesByKey: [[1]] });
const v01 = statement({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://slsa.dev/provenance/v0.2', predicate: { builder: { id: 'https://builder.example/v0' } } });
good.push({ description: 'Statement v0.1 with SLSA v0.2 provenance', envelope: ssl.envelope(IN_TOTO, bytes(v01), [ed]), keys: [ed.publicPem], predicateType: 'https://slsa.dev/provenance/v0.2', builderId: 'https://builder.example/v0', subjects: subjects(v01), signaturesByKey: [[0]] });
const sbom = statement({ predicateType: 'https://spdx.dev/Document', predicate: { spdxVersion: 'SPDX-2.3' }, subject: [{ name: 'a.tgz', digest: { sha256: '1'.repeat(64) } }, { name: 'b.whl', digest: { sha512: '2'.repeat(128) } }] });
good.push({ description: 'SPDX SBOM, two subjects, one without sha256', envelope: ssl.envelope(IN_TOTO, bytes(sbom), [ec]), keys: [ec.publicPem], predicateType: 'https://spdx.dev/Document', builderId: null, subjects: subjects(sbom), signaturesByKey: [[0]] });

bad.push({ description: 'no signature by the submitted key', envelope: ssl.envelope(IN_TOTO, bytes(slsa), [stranger]), keys: [ed.publicPem], error: 'InvalidError', message: 'no signature by the submitted Ed25519 key' });
bad.push({ description: 'no subject', envelope: ssl.envelope(IN_TOTO, bytes(statement({ subject: [] })), [ed]), keys: [ed.publicPem], error: 'InvalidError', message: 'has no subject' });
bad.push({ description: 'payloadType is not in-toto', envelope: ssl.envelope('application/vnd.cyclonedx+json', bytes(slsa), [ed]), keys: [ed.publicPem], error: 'InvalidError', message: 'is not an in-toto Statement' });
bad.push({ description: 'no sha256 subject', envelope: ssl.envelope(IN_TOTO, bytes(statement({ subject: [{ name: 'x', digest: { sha512: '2'.repeat(128) } }] })), [ed]), keys: [ed.publicPem], error: 'InvalidError', message: 'no subject has a sha256 digest' });
const tampered = JSON.parse(ssl.envelope(IN_TOTO, bytes(slsa), [ec])) as { payload: string };
tampered.payload = Buffer.from(JSON.stringify(statement({ predicateType: 'https://slsa.dev/provenance/v1 ' }))).toString('base64');
bad.push({ description: 'payload changed after signing', envelope: JSON.stringify(tampered), keys: [ec.publicPem], error: 'InvalidError', message: 'no signature by the submitted ECDSA P-256 key' });
const big = statement({ predicate: { runDetails: { builder: { id: 'x' } }, padding: 'p'.repeat(64 * 1024) } });
bad.push({ description: 'envelope over 64 KiB', envelope: ssl.envelope(IN_TOTO, bytes(big), [ed]), keys: [ed.publicPem], error: 'TooLargeError', message: 'larger than the limit of 65536' });
const dup = ssl.envelope(IN_TOTO, bytes(slsa), [ed]).replace('{', '{"payloadType":"text/plain",');
bad.push({ description: 'duplicate member name', envelope: dup, keys: [ed.publicPem], error: 'MalformedError', message: 'duplicate member name "payloadType"' });
bad.push({ description: 'RSA key', envelope: ssl.envelope(IN_TOTO, bytes(slsa), [ed]), keys: [ssl.rsaPublicPem()], error: 'InvalidError', message: 'RSA keys are not supported' });

const out = { description: 'DSSE envelopes carrying in-toto Statements, made by openssl and @sigstore/core (see generate.ts)', commands: COMMANDS, good, bad };
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'vectors.json'), JSON.stringify(out, null, 1) + '\n');
ssl.remove();
