/**
 * Entry vectors (docs/formats.md §4): the shared reference set
 * (vectors/entry/entries.json, from an independent Go implementation) and
 * our generated additions (negative.json, extra-good.json), on both Ed25519
 * backends.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import { digestBytes } from '../../src/entry/digest.js';
import {
  decodeEntry,
  encodeEntry,
  entryLeafHash,
  entrySignedMessage,
  entryToJson,
  keyHash,
  parseAndVerifyEntry,
  parseEntryJson,
  signEntry,
  verifyEntrySignature,
} from '../../src/entry/index.js';
import { EXTRA_GOOD_PATH, NEGATIVE_PATH, generate, render } from './gen-vectors.js';
import {
  BACKENDS,
  ERROR_CLASSES,
  expectError,
  expectVitrineError,
  hex,
  readVector,
  unhex,
  type GoodCase,
  type NegativeCase,
  type SharedVectors,
} from './_helpers.js';
import { rootPath } from '../_root.js';

const shared = readVector<SharedVectors>('entries.json');
const extra = readVector<{ signerSeed: string; good: GoodCase[] }>('extra-good.json');
const negative = readVector<{ signerSeed: string; cases: NegativeCase[] }>('negative.json');
const seed = unhex(shared.signer.seed);

t.test('vectors/entry/entries.json is an unmodified copy of the shared vectors', async (t) => {
  let upstream: string | undefined;
  try {
    upstream = readFileSync(rootPath('../shared/vectors/entry/entries.json'), 'utf8');
  } catch {
    // Outside the monorepo checkout the shared copy is absent; the local copy is then the reference.
  }
  if (upstream === undefined) return t.pass('shared vectors not present next to this checkout; local copy used');
  t.equal(readFileSync(rootPath('vectors/entry/entries.json'), 'utf8'), upstream, 'local entries.json equals ../shared/vectors/entry/entries.json');
});

t.test('signer identity', async (t) => {
  for (const [backend, ed] of BACKENDS) {
    const pub = ed.publicKey(seed);
    t.equal(keyHash(pub), shared.signer.keyHash, `${backend}: keyHash of the signer's public key`);
    // The vkey's base64 payload is 0x01 || public key; split on the first two '+' only (docs/formats.md §2).
    const vkeyKey = Buffer.from(shared.signer.vkey.split('+').slice(2).join('+'), 'base64').subarray(1);
    t.equal(hex(pub), hex(vkeyKey), `${backend}: public key of the seed equals the vkey's key`);
  }
});

const goodSets: Array<[string, GoodCase[]]> = [
  ['entries.json', shared.good],
  ['extra-good.json', extra.good],
];

for (const [file, cases] of goodSets) {
  t.test(`good cases of ${file}`, async (t) => {
    t.ok(cases.length > 0, `${file} has good cases`);
    for (const c of cases) {
      const bytes = unhex(c.entry);
      const fields = { name: c.name, digest: unhex(c.digest), ...(c.annotations ? { annotations: c.annotations } : {}) };
      if (c.artifact !== undefined) {
        t.equal(hex(digestBytes(Buffer.from(c.artifact, 'utf8'))), c.digest, `${c.desc}: digest is SHA-256 of the artifact`);
      }
      for (const [backend, ed] of BACKENDS) {
        const signed = signEntry(fields, seed, ed);
        t.equal(hex(signed.sig), c.sig, `${c.desc} [${backend}]: signEntry reproduces the signature`);
        t.equal(hex(entrySignedMessage(signed)), c.signedMessage, `${c.desc} [${backend}]: signed message`);
        t.equal(hex(encodeEntry(signed)), c.entry, `${c.desc} [${backend}]: entry bytes`);
        const parsed = parseAndVerifyEntry(bytes, ed);
        t.ok(verifyEntrySignature(parsed, ed), `${c.desc} [${backend}]: signature verifies`);
        t.same(parsed, signed, `${c.desc} [${backend}]: decoded entry equals the signed one`);
      }
      const decoded = decodeEntry(bytes);
      t.equal(decoded.name, c.name, `${c.desc}: name`);
      t.same(decoded.annotations, c.annotations, `${c.desc}: annotations`);
      t.equal(hex(entryLeafHash(bytes)), c.leafHash, `${c.desc}: leaf hash`);
      t.equal(keyHash(decoded.key), shared.signer.keyHash, `${c.desc}: key hash of the entry's key`);
      t.equal(hex(encodeEntry(parseEntryJson(JSON.stringify(entryToJson(decoded))))), c.entry, `${c.desc}: JSON form round-trips to the same bytes`);
    }
  });
}

/** Expected outcome of a shared bad case, from its informative `why`. */
const WHY: Record<SharedVectors['bad'][number]['why'], { cls: 'MalformedError' | 'InvalidError'; code: string; decodes: boolean }> = {
  malformed: { cls: 'MalformedError', code: 'malformed', decodes: false },
  'non-canonical': { cls: 'InvalidError', code: 'non-canonical', decodes: false },
  schema: { cls: 'InvalidError', code: 'invalid', decodes: false },
  signature: { cls: 'InvalidError', code: 'bad-signature', decodes: true },
};

t.test('bad cases of entries.json are refused, for the reason given', async (t) => {
  t.ok(shared.bad.length >= 17, 'the shared set has its bad cases');
  for (const c of shared.bad) {
    const bytes = unhex(c.entry);
    const want = WHY[c.why];
    t.ok(want, `${c.desc}: known why ${c.why}`);
    if (want.decodes) {
      t.doesNotThrow(() => decodeEntry(bytes), `${c.desc}: decodes (only the signature is wrong)`);
    } else {
      expectError(t, () => decodeEntry(bytes), ERROR_CLASSES[want.cls], want.code, 'entry', `${c.desc}: decodeEntry`);
    }
    for (const [backend, ed] of BACKENDS) {
      expectError(t, () => parseAndVerifyEntry(bytes, ed), ERROR_CLASSES[want.cls], want.code, 'entry', `${c.desc} [${backend}]: parseAndVerifyEntry`);
    }
  }
});

t.test('negative.json: each case is refused at its stage, with its class, code and field', async (t) => {
  t.ok(negative.cases.length > 80, 'negative.json has its cases');
  const names = new Set<string>();
  for (const c of negative.cases) {
    t.notOk(names.has(c.name), `${c.name}: case names are unique`);
    names.add(c.name);
    const bytes = unhex(c.entry);
    const cls = ERROR_CLASSES[c.error];
    if (c.stage === 'decode') {
      expectError(t, () => decodeEntry(bytes), cls, c.code, c.field, `${c.name}: decodeEntry`);
    } else {
      const entry = decodeEntry(bytes);
      t.equal(hex(encodeEntry(entry)), c.entry, `${c.name}: decodes and is canonical`);
    }
    for (const [backend, ed] of BACKENDS) {
      if (c.nobleAccepts && ed === nobleEd25519) {
        t.doesNotThrow(() => parseAndVerifyEntry(bytes, ed), `${c.name} [${backend}]: accepted by the cofactored verifier (documented divergence)`);
        continue;
      }
      expectError(t, () => parseAndVerifyEntry(bytes, ed), cls, c.code, c.field, `${c.name} [${backend}]: parseAndVerifyEntry`);
    }
  }
});

t.test('the backends agree on every vector except the documented torsion case', async (t) => {
  const all = [...shared.good.map((c) => c.entry), ...extra.good.map((c) => c.entry), ...shared.bad.map((c) => c.entry), ...negative.cases.map((c) => c.entry)];
  const disagree: string[] = [];
  for (const e of all) {
    let entry;
    try {
      entry = decodeEntry(unhex(e));
    } catch {
      continue;
    }
    if (verifyEntrySignature(entry, nodeEd25519) !== verifyEntrySignature(entry, nobleEd25519)) disagree.push(e);
  }
  const torsion = negative.cases.filter((c) => c.nobleAccepts).map((c) => c.entry);
  t.equal(torsion.length, 1, 'exactly one case is marked nobleAccepts');
  t.same(disagree, torsion, 'node:crypto and noble disagree only on the R-with-torsion signature');
});

t.test('generated vector files are up to date with test/entry/gen-vectors.ts', async (t) => {
  const { negative: n, extraGood: g } = generate();
  t.equal(readFileSync(NEGATIVE_PATH, 'utf8'), render(n), 'negative.json matches the generator (run: npx tsx test/entry/gen-vectors.ts --write)');
  t.equal(readFileSync(EXTRA_GOOD_PATH, 'utf8'), render(g), 'extra-good.json matches the generator (run: npx tsx test/entry/gen-vectors.ts --write)');
});

t.test('every refused vector stays refused through the JSON form', async (t) => {
  // A decodable-but-badly-signed entry has a JSON form; converting it back
  // must not launder the bad signature.
  for (const c of negative.cases.filter((c) => c.stage === 'verify' && !c.nobleAccepts)) {
    const json = JSON.stringify(entryToJson(decodeEntry(unhex(c.entry))));
    const bytes = encodeEntry(parseEntryJson(json));
    const err = expectVitrineError(t, () => parseAndVerifyEntry(bytes, nodeEd25519), `${c.name} via JSON`);
    t.equal(err?.code, 'bad-signature', `${c.name} via JSON: still a bad signature`);
  }
});
