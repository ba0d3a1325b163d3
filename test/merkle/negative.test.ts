/**
 * vectors/merkle/negative.json: mutations of valid RFC 9162 §2.1.3/§2.1.4
 * proofs, each rejected with the error class it names (MalformedError or
 * ProofError, docs/formats.md §1), both by the verifiers and, where they apply,
 * by the root-computing functions.
 */
import t, { type Test } from 'tap';
import { consistencyRoots, ProofError, rootFromInclusionProof, verifyConsistency, verifyInclusion } from '../../merkle/index.js';
import { InvalidError, MalformedError } from '../../src/errors.js';
import { generate, type NegativeCase } from './gen-negative.js';
import { loadVectors, unhex } from './reference.js';

const file = loadVectors<{ description: string; cases: NegativeCase[] }>('merkle/negative.json');
const classes = { MalformedError, ProofError } as const;

function rejects(t: Test, f: () => unknown, want: NegativeCase['error'], msg: string): void {
  try {
    f();
    t.fail(`${msg}: accepted`);
  } catch (err) {
    const ok = err instanceof classes[want] && !(want === 'MalformedError' && err instanceof InvalidError);
    t.ok(ok, `${msg}: ${want} (got ${(err as Error).name}: ${(err as Error).message})`);
  }
}

t.test('negative.json is what gen-negative.ts generates', async (t) => {
  t.same(file, generate(), 'regenerate with npx tsx test/merkle/gen-negative.ts --write');
  t.ok(file.cases.length >= 50, `${file.cases.length} cases`);
  t.equal(new Set(file.cases.map((c) => c.name)).size, file.cases.length, 'case names are unique');
  t.ok(file.cases.some((c) => c.error === 'ProofError') && file.cases.some((c) => c.error === 'MalformedError'), 'both error classes occur');
});

t.test('ProofError is an InvalidError (HTTP 422), not a MalformedError', async (t) => {
  const e = new ProofError('x');
  t.ok(e instanceof InvalidError, 'ProofError extends InvalidError');
  t.notOk(e instanceof MalformedError, 'ProofError is not a MalformedError');
  t.equal(e.code, 'invalid-proof', 'code');
  t.equal(e.name, 'ProofError', 'name');
});

t.test('every negative case is rejected with its error class', async (t) => {
  for (const c of file.cases) {
    const proof = c.proof.map(unhex);
    if (c.type === 'inclusion') {
      const args = [unhex(c.leafHash!), BigInt(c.index!), BigInt(c.size!), proof] as const;
      rejects(t, () => verifyInclusion(...args, unhex(c.root!)), c.error, c.name);
      if (c.error === 'MalformedError' && c.root!.length === 64) rejects(t, () => rootFromInclusionProof(...args), c.error, `${c.name} (rootFromInclusionProof)`);
    } else {
      const m = BigInt(c.from!);
      const n = BigInt(c.to!);
      rejects(t, () => verifyConsistency(m, n, proof, unhex(c.rootFrom!), unhex(c.rootTo!)), c.error, c.name);
      if (c.error === 'MalformedError' && c.rootFrom!.length === 64) {
        rejects(t, () => consistencyRoots(m, n, proof, { rootM: unhex(c.rootFrom!) }), c.error, `${c.name} (consistencyRoots)`);
      }
    }
  }
});
