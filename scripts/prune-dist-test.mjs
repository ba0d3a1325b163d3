// Before `tsc -b tsconfig.test.json` (npm run pretest): removes compiled
// tests whose source is gone, so a deleted or renamed test/x.test.ts cannot
// keep running from a stale dist/test/x.test.js. The rest of dist/test stays,
// with its build info, so an unchanged test is not compiled again.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/test');

function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else {
      const m = /^(.*)\.js(\.map)?$/.exec(relative(out, p));
      if (m && !existsSync(join(root, 'test', `${m[1]}.ts`))) rmSync(p);
    }
  }
}
if (existsSync(out)) walk(out);
