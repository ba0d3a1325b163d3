/**
 * vectors/proof/negative.json: every mutation of the reference bundle fails
 * at its expected step with its expected code (or, for the few changes that
 * must not matter, still verifies), on both Ed25519 backends. The file must
 * be exactly what test/proof/gen-negative.ts generates.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_BUNDLE_BYTES, verifyBundle } from '../../src/proof/index.js';
import { negativeJson, type NegativeFile } from './gen-negative.js';
import { BACKENDS, ROOT, utf8 } from './_helpers.js';

const text = readFileSync(join(ROOT, 'vectors/proof/negative.json'), 'utf8');
const file = JSON.parse(text) as NegativeFile;

t.test('negative.json is reproducible', async (t) => {
  t.ok(text === negativeJson(), 'the file equals the output of test/proof/gen-negative.ts (run it to regenerate)');
  const names = file.cases.map((c) => c.name);
  t.equal(new Set(names).size, names.length, 'case names are unique');
  t.ok(file.cases.length >= 40, `a broad table (${file.cases.length} cases)`);
  const big = file.cases.find((c) => c.name === 'bundle-over-128KiB');
  t.ok(big !== undefined && utf8(big.bundle).length > MAX_BUNDLE_BYTES, 'the oversized case really is over the limit');
  const valid = file.cases.find((c) => c.name === 'valid')!;
  for (const c of file.cases) {
    if (c.policy === undefined && c.artifact === undefined && c.name !== 'valid') {
      t.not(c.bundle, valid.bundle, `${c.name}: actually changes the bundle`);
    }
  }
});

for (const [label, ed] of BACKENDS) {
  t.test(`negative bundles (${label})`, async (t) => {
    for (const c of file.cases) {
      const artifact = utf8(c.artifact ?? file.artifact);
      const r = verifyBundle(artifact, c.bundle, c.policy ?? file.policy, ed);
      if (c.expect.ok) {
        t.ok(r.ok, `${c.name} (${c.mutation}): still verifies${r.ok ? '' : ` but failed at step ${r.step}: ${r.message}`}`);
        continue;
      }
      if (r.ok) {
        t.fail(`${c.name} (${c.mutation}): must fail at step ${c.expect.step}, but verified`);
        continue;
      }
      t.equal(r.step, c.expect.step, `${c.name}: step ${c.expect.step} (got ${r.step} ${r.code}: ${r.message})`);
      t.equal(r.code, c.expect.code, `${c.name}: code ${c.expect.code}`);
      // The same bundle given as bytes fails the same way.
      const again = verifyBundle(artifact, utf8(c.bundle), c.policy ?? file.policy, ed);
      t.same(again, r, `${c.name}: same result from the bundle's bytes`);
    }
  });
}
