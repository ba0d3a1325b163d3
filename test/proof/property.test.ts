/**
 * Properties of bundles over random small logs (fast-check): every bundle
 * a log built from the public APIs hands out verifies, for every entry and
 * on both backends; and every single-byte change to a bundle's bytes makes
 * it fail (unless it still means exactly the same bundle, which the format
 * makes impossible: the test would then say which byte did it).
 */
import t from 'tap';
import fc from 'fast-check';
import { nobleEd25519 } from '../../src/crypto/ed25519.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { formatVerifier, cosignerVerifier, signerFromSeed, verifierFromSigner } from '../../src/note/index.js';
import { formatBundle, parseBundle, verifyBundle, type BundlePolicy } from '../../src/proof/index.js';
import { buildLog, refPath, refTreeHash, utf8, type MemoryLog } from './_helpers.js';
import { withoutStacks } from '../fuzz-helpers.js';

const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
const logArb = fc.record({
  logSeed: seed,
  signerSeed: seed,
  witnessSeeds: fc.array(seed, { maxLength: 2 }),
  artifacts: fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 12 }),
  names: fc.array(fc.stringMatching(/^[a-z][a-z0-9:/@.-]{0,30}[a-z0-9]$/), { minLength: 12, maxLength: 12 }),
  annotate: fc.boolean(),
  timestamp: fc.integer({ min: 1, max: 2 ** 40 }),
});

type LogParams = typeof logArb extends fc.Arbitrary<infer T> ? T : never;

function makeLog(r: LogParams): { log: MemoryLog; policy: BundlePolicy } {
  const logSigner = signerFromSeed('log.example.org/prop', r.logSeed, nodeEd25519);
  const witnesses = r.witnessSeeds.map((s, i) => signerFromSeed(`witness${i}.example.org/w`, s, nodeEd25519));
  const log = buildLog({
    logSigner,
    signerSeed: r.signerSeed,
    artifacts: r.artifacts,
    names: r.names,
    annotations: r.artifacts.map((_, i) => (r.annotate ? { version: `${i}.0`, source: 'https://example.org/x' } : undefined)),
    witnesses,
    timestamp: r.timestamp,
  });
  const policy: BundlePolicy = {
    logKey: formatVerifier(verifierFromSigner(logSigner)),
    signers: [formatVerifier(verifierFromSigner(signerFromSeed('signer', r.signerSeed, nodeEd25519)))],
    witnesses: witnesses.map((w) => formatVerifier(cosignerVerifier(w))),
    quorum: witnesses.length,
  };
  return { log, policy };
}

t.test('every bundle of a random log verifies', async (t) => {
  let bundles = 0;
  fc.assert(
    fc.property(logArb, (r) => {
      const { log, policy } = makeLog(r);
      if (!bytesSame(log.rootHash, refTreeHash(log.leafHashes))) throw new Error('treeHash differs from the recursive reference MTH');
      for (let i = 0; i < log.entries.length; i++) {
        const bundle = log.bundle(i);
        for (const ed of [nodeEd25519, nobleEd25519]) {
          const res = verifyBundle(log.artifacts[i]!, bundle, policy, ed);
          if (!res.ok) throw new Error(`entry ${i} of ${log.entries.length}: step ${res.step}: ${res.message}`);
          if (res.index !== BigInt(i) || res.treeSize !== BigInt(log.entries.length)) throw new Error(`entry ${i}: wrong index or size in the result`);
          if (res.witnesses.length !== r.witnessSeeds.length) throw new Error(`entry ${i}: ${res.witnesses.length} witnesses counted`);
        }
        const parsed = parseBundle(bundle);
        if (formatBundle(parsed) !== bundle) throw new Error(`entry ${i}: format(parse(bundle)) differs`);
        // The proof merkle/ planned is the audit path of the recursive RFC 9162 definition.
        const ref = refPath(i, log.leafHashes).map((h) => Buffer.from(h).toString('hex')).join();
        if (parsed.proof.map((h) => Buffer.from(h).toString('hex')).join() !== ref) throw new Error(`entry ${i}: proof differs from the reference PATH`);
        // Another entry's artifact never verifies with this bundle.
        const j = (i + 1) % log.entries.length;
        if (j !== i && !bytesSame(log.artifacts[i]!, log.artifacts[j]!)) {
          const other = verifyBundle(log.artifacts[j]!, bundle, policy, nodeEd25519);
          if (other.ok || other.step !== 1) throw new Error(`entry ${i}: artifact ${j} was not refused at step 1`);
        }
        bundles++;
      }
    }),
    { numRuns: 30 },
  );
  t.ok(bundles >= 30, `checked ${bundles} bundles`);
});

t.test('every single-byte change to a bundle makes it fail', async (t) => {
  let mutations = 0;
  withoutStacks(() => fc.assert(
    fc.property(logArb, fc.nat(), fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 16 }), (r, pick, xors) => {
      const { log, policy } = makeLog(r);
      const i = pick % log.entries.length;
      const original = log.bundle(i);
      const bytes = utf8(original);
      // Every position, each changed by one of a few random non-zero XOR masks.
      for (let at = 0; at < bytes.length; at++) {
        const mutated = bytes.slice();
        mutated[at] = mutated[at]! ^ xors[at % xors.length]!;
        const res = verifyBundle(log.artifacts[i]!, mutated, policy, nodeEd25519);
        mutations++;
        if (res.ok) {
          // Only acceptable if it decodes to the very same bundle.
          const again = formatBundle(parseBundle(mutated));
          if (again !== original) throw new Error(`byte ${at} ^ ${xors[at % xors.length]} still verifies as a different bundle`);
        }
      }
    }),
    { numRuns: 20 },
  ));
  t.ok(mutations > 20 * 400, `checked ${mutations} mutations`);
});

function bytesSame(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}
