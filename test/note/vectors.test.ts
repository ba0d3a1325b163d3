/**
 * The note vectors: the reference keys, signed checkpoint, cosignature and Go
 * note example (vectors/note/keys-and-checkpoint.json, produced with Go's
 * golang.org/x/mod/sumdb/note), and every case of negative.json and
 * accepted.json, each on both Ed25519 backends.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nobleEd25519, type Ed25519 } from '../../src/crypto/ed25519.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { hexDecode, hexEncode } from '../../src/encoding.js';
import { InvalidError, MalformedError, VitrineError } from '../../src/errors.js';
import {
  cosign,
  cosignerVerifier,
  formatKeyId,
  formatSigner,
  formatVerifier,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseCosignature,
  parseCosignerVerifier,
  parseSigner,
  parseVerifier,
  signerFromSeed,
  signNote,
  verifierFromSigner,
  verifyCosignature,
  verifyCosignatures,
} from '../../src/note/index.js';
import { rootPath } from '../_root.js';

const dir = rootPath('vectors/note');
const ref = JSON.parse(readFileSync(join(dir, 'keys-and-checkpoint.json'), 'utf8'));

interface Case {
  name: string;
  mutation: string;
  kind: string;
  input?: string;
  inputHex?: string;
  error?: string;
  code?: string;
  field?: string;
  expect?: Record<string, unknown>;
}
const negative: Case[] = JSON.parse(readFileSync(join(dir, 'negative.json'), 'utf8')).cases;
const accepted: Case[] = JSON.parse(readFileSync(join(dir, 'accepted.json'), 'utf8')).cases;

const backends: [string, Ed25519][] = [
  ['noble', nobleEd25519],
  ['node', nodeEd25519],
];

const logVerifier = parseVerifier(ref.log.vkey);
const witnessVerifier = parseCosignerVerifier(ref.witness.vkey);

t.test('reference keys', async (t) => {
  for (const who of ['log', 'witness'] as const) {
    for (const [name, ed] of backends) {
      const s = signerFromSeed(ref[who].name, hexDecode(ref[who].seed, 'seed'), ed);
      if (who === 'log') t.equal(formatSigner(s), ref.log.skey, `${who} skey from seed (${name})`);
      const vkey = who === 'log' ? ref.log.vkey : ref.witness.vkeyEd25519;
      t.equal(formatVerifier(verifierFromSigner(s)), vkey, `${who} type-0x01 vkey from seed (${name})`);
      if (who === 'witness') t.equal(formatVerifier(cosignerVerifier(s)), ref.witness.vkey, `witness type-0x04 vkey from seed (${name})`);
    }
  }
  t.equal(formatKeyId(logVerifier.keyId), 'eac8b8a6', 'log key ID');
  t.equal(logVerifier.type, 0x01, 'log key type');
  t.equal(formatKeyId(witnessVerifier.keyId), 'ab327096', 'witness type-0x04 key ID');
  t.equal(formatKeyId(parseVerifier(ref.witness.vkeyEd25519).keyId), 'c909bead', 'witness type-0x01 key ID');
  t.equal(formatVerifier(parseVerifier(ref.log.vkey)), ref.log.vkey, 'vkey round trip');
  const fromSkey = parseSigner(ref.log.skey);
  t.equal(hexEncode(fromSkey.seed), ref.log.seed, 'seed parsed from skey');
  t.equal(formatVerifier(verifierFromSigner(fromSkey)), ref.log.vkey, 'vkey derived from skey');
});

for (const [name, ed] of backends) {
  t.test(`reference checkpoint and cosignature (${name})`, async (t) => {
    const log = signerFromSeed(ref.log.name, hexDecode(ref.log.seed, 'seed'), ed);
    const witness = signerFromSeed(ref.witness.name, hexDecode(ref.witness.seed, 'seed'), ed);

    const opened = openCheckpoint(ref.signedCheckpoint, logVerifier, ed);
    t.equal(opened.origin, 'log.example.com/vitrine', 'origin');
    t.equal(opened.size, 8n, 'size');
    t.equal(opened.text, ref.checkpointText, 'text');
    t.equal(opened.note.signatures.length, 1, 'one verified signature');
    t.same(opened.extensions, [], 'no extension lines');
    t.equal(signNote(ref.checkpointText, [log], ed), ref.signedCheckpoint, 're-signing reproduces the Go-signed checkpoint');

    const line = cosign(ref.checkpointText, witness, BigInt(ref.cosignatureTimestamp), ed);
    t.equal(line, ref.cosignatureLine, 'cosignature line reproduced byte for byte');
    t.equal(cosign(ref.checkpointText, witness, ref.cosignatureTimestamp, ed), ref.cosignatureLine, 'timestamp as a number gives the same line');
    const c = verifyCosignature(ref.checkpointText, ref.cosignatureLine, witnessVerifier, ed);
    t.equal(c.timestamp, BigInt(ref.cosignatureTimestamp), 'cosignature timestamp');
    const parsed = parseCosignature(ref.cosignatureLine);
    t.equal(parsed.timestamp, 1700000000n, 'parsed timestamp');
    t.equal(formatKeyId(parsed.keyId), 'ab327096', 'parsed key ID');

    const withCosig = openCheckpoint(ref.checkpointWithCosig, logVerifier, ed);
    t.equal(withCosig.note.unverified.length, 1, 'the cosignature is an unverified line for the log key alone');
    const cosigs = verifyCosignatures(ref.checkpointWithCosig, [parseVerifier(ref.witness.vkey)], ed);
    t.equal(cosigs.length, 1, 'one witness cosigned');
    t.equal(cosigs[0]!.timestamp, 1700000000n, 'cosignature timestamp from the note');
    const both = openNote(ref.checkpointWithCosig, [logVerifier, witnessVerifier], { ed });
    t.equal(both.signatures.length, 2, 'log and witness verified in one pass');
    t.equal(both.signatures[1]!.timestamp, 1700000000n, 'cosignature timestamp via openNote');
  });

  t.test(`Go note example (${name})`, async (t) => {
    const go = ref.goNoteExample;
    const v = parseVerifier(go.vkey);
    const opened = openNote(go.note, [v], { ed });
    t.equal(opened.text, "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n", 'text');
    t.equal(opened.signatures[0]!.name, 'PeterNeumann', 'signer name');
    const s = parseSigner(go.skey, ed);
    t.equal(formatSigner(s), go.skey, 'skey round trip');
    t.equal(formatVerifier(verifierFromSigner(s)), go.vkey, 'vkey derived from the skey');
    t.equal(signNote(opened.text, [s], ed), go.note, 're-signing reproduces Go');
    t.same(openNote(new TextEncoder().encode(go.note), [v], { ed }).text, opened.text, 'bytes input gives the same text');
  });
}

function inputOf(c: Case): string | Uint8Array {
  if (c.inputHex !== undefined) return hexDecode(c.inputHex, 'inputHex');
  if (c.input === undefined) throw new Error(`case ${c.name} has no input`);
  return c.input;
}

function run(c: Case, ed: Ed25519): unknown {
  const input = inputOf(c);
  switch (c.kind) {
    case 'note':
      return openNote(input, [logVerifier], { ed });
    case 'checkpoint-note':
      return openCheckpoint(input, logVerifier, ed);
    case 'checkpoint':
      return parseCheckpoint(input as string);
    case 'vkey':
      return parseVerifier(input as string);
    case 'cosigner-vkey':
      return parseCosignerVerifier(input as string);
    case 'skey':
      return parseSigner(input as string, ed);
    case 'cosignature-line':
      return verifyCosignature(ref.checkpointText, input as string, witnessVerifier, ed);
    case 'cosigned-note':
      return verifyCosignatures(input, [witnessVerifier], ed);
    default:
      throw new Error(`unknown kind ${c.kind}`);
  }
}

t.test('negative vectors', async (t) => {
  t.ok(negative.length >= 60, `negative.json holds ${negative.length} cases`);
  for (const c of negative) {
    for (const [name, ed] of backends) {
      let thrown: unknown;
      try {
        run(c, ed);
      } catch (err) {
        thrown = err;
      }
      const label = `${c.name} (${name}): ${c.mutation}`;
      t.ok(thrown instanceof VitrineError, `${label}: rejected with a typed error, got ${String(thrown)}`);
      const want = c.error === 'InvalidError' ? InvalidError : MalformedError;
      t.ok(thrown instanceof want, `${label}: want ${c.error}, got ${(thrown as Error)?.name}: ${(thrown as Error)?.message}`);
      t.ok((thrown as Error).message.includes(c.field!), `${label}: message names "${c.field}", got: ${(thrown as Error).message}`);
      if (c.code !== undefined) t.equal((thrown as VitrineError).code, c.code, `${label}: error code`);
    }
  }
});

t.test('mutated checkpoints carry a valid log signature', async (t) => {
  // Rejection must come from the mutated field, not from the signature.
  const cases = negative.filter((c) => c.kind === 'checkpoint-note');
  t.ok(cases.length >= 10, 'there are checkpoint-note cases');
  for (const c of cases) {
    const opened = openNote(inputOf(c), [logVerifier], { ed: nodeEd25519 });
    t.equal(opened.signatures.length, 1, `${c.name}: the note itself verifies with the log key`);
  }
});

t.test('accepted edge cases', async (t) => {
  for (const c of accepted) {
    for (const [name, ed] of backends) {
      const label = `${c.name} (${name})`;
      const got = run(c, ed) as Record<string, unknown>;
      const e = c.expect ?? {};
      switch (c.kind) {
        case 'note': {
          const n = got as unknown as ReturnType<typeof openNote>;
          t.equal(n.signatures.length, e['signatures'], `${label}: verified signatures`);
          t.equal(n.unverified.length, e['unverified'], `${label}: unverified signatures`);
          if (e['text'] !== undefined) t.equal(n.text, e['text'], `${label}: text`);
          break;
        }
        case 'checkpoint-note': {
          const cp = got as unknown as ReturnType<typeof openCheckpoint>;
          t.equal(cp.size.toString(), e['size'], `${label}: size`);
          t.same(cp.extensions, e['extensions'], `${label}: extension lines preserved`);
          break;
        }
        case 'cosigner-vkey':
          t.equal(formatKeyId(got['keyId'] as number), e['keyId'], `${label}: key ID`);
          t.equal(got['type'], e['type'], `${label}: type`);
          break;
        case 'skey':
          t.equal(formatVerifier(verifierFromSigner(got as never)), e['vkey'], `${label}: derived vkey`);
          break;
        case 'cosigned-note': {
          const cs = got as unknown as ReturnType<typeof verifyCosignatures>;
          t.same(
            cs.map((x) => ({ keyId: formatKeyId(x.witness.keyId), timestamp: x.timestamp.toString() })),
            e['cosignatures'],
            `${label}: cosignatures`,
          );
          break;
        }
        default:
          t.fail(`${label}: no check for kind ${c.kind}`);
      }
    }
  }
});
