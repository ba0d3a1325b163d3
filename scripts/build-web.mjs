// Builds what browsers load (issue 13), after tsc:
//   dist/browser/vitrine.js  the `vitrine/browser` ES module (src/browser), minified;
//   dist/web/                the explorer, entry, verify and dashboard pages:
//                            HTML and CSS copied from web/, one minified script per page.
// Prints each file's size; fails when the verifier is over its 150 KB budget.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET = 150 * 1024;
// merkle/_sha256.ts is fast but weighs ~28 KB; browsers get the small
// equivalent (merkle/_sha256-small.ts, held to the same results by
// test/merkle/hash.test.ts).
const smallSha256 = {
  name: 'small-sha256',
  setup(b) {
    b.onResolve({ filter: /^\.\/_sha256\.js$/ }, (args) =>
      args.importer.startsWith(join(root, 'merkle')) ? { path: join(root, 'merkle/_sha256-small.ts') } : undefined,
    );
  },
};
// cbor-x weighs ~30 KB, mostly extensions entries never use; browsers get
// src/entry/_cbor-small.ts, held to the same bytes and values by
// test/entry/cbor-small.test.ts.
const smallCbor = {
  name: 'small-cbor',
  setup(b) {
    b.onResolve({ filter: /^cbor-x$/ }, (args) => (args.importer === join(root, 'src/entry/cbor.ts') ? { path: join(root, 'src/entry/_cbor-small.ts') } : undefined));
  },
};
const common = { plugins: [smallSha256, smallCbor], bundle: true, platform: 'browser', format: 'esm', target: 'es2022', minify: true, legalComments: 'none', logLevel: 'warning', absWorkingDir: root };

await build({ ...common, entryPoints: ['src/browser/index.ts'], outfile: 'dist/browser/vitrine.js' });
const out = join(root, 'dist/web');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const pages = ['explorer', 'entry', 'verify', 'dashboard'];
await build({ ...common, entryPoints: pages.map((p) => `web/${p}.ts`), outdir: 'dist/web' });
for (const f of readdirSync(join(root, 'web'))) if (/\.(html|css)$/.test(f)) cpSync(join(root, 'web', f), join(out, f));

const size = statSync(join(root, 'dist/browser/vitrine.js')).size;
console.log(`vitrine/browser: dist/browser/vitrine.js ${(size / 1024).toFixed(1)} KB minified (budget ${BUDGET / 1024} KB)`);
for (const f of readdirSync(out).sort()) console.log(`  dist/web/${f} ${(statSync(join(out, f)).size / 1024).toFixed(1)} KB`);
if (size > BUDGET) {
  console.error(`vitrine/browser is over its budget: ${size} bytes > ${BUDGET}`);
  process.exit(1);
}
