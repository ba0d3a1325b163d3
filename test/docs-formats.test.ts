/**
 * docs/formats.md is the spec the code cites as `docs/formats.md §N` (or
 * `§N.M`). Every such citation in the sources, tests and docs must name a
 * section that exists, so a renumbering or a typo cannot leave a comment or
 * a --help text pointing nowhere; and no citation of the old design notes
 * (`FORMATS.md §N`, outside this repository) may come back.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

const ROOTS = ['src', 'cmd', 'merkle', 'web', 'test', 'docs', 'README.md'];

function files(path: string): string[] {
  if (statSync(path).isFile()) return /\.(ts|mjs|js|md|html)$/.test(path) ? [path] : [];
  return readdirSync(path).flatMap((name) => (name === 'node_modules' ? [] : files(join(path, name))));
}

const spec = readFileSync('docs/formats.md', 'utf8');
const sections = new Set<string>();
for (const m of spec.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? /gm)) sections.add(m[1]!);

t.test('docs/formats.md has its numbered sections', async (t) => {
  for (const n of ['0', '1', '2', '2.1', '2.2', '3', '4', '4.1', '4.2', '4.3', '4.4', '4.5', '5', '6', '7', '8', '9', '16', '16.1']) {
    t.ok(sections.has(n), `§${n} exists`);
  }
});

t.test('every docs/formats.md §N citation names an existing section', async (t) => {
  const bad: string[] = [];
  let count = 0;
  for (const file of ROOTS.flatMap(files)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/formats\.md(?:`)?,? §(\d+(?:\.\d+)?)/g)) {
      count++;
      if (!sections.has(m[1]!)) bad.push(`${file}: §${m[1]}`);
    }
  }
  t.ok(count > 100, `${count} citations found`);
  t.same(bad, [], 'citations of sections that do not exist');
});

t.test('no citation of the design notes outside the repository', async (t) => {
  const old: string[] = [];
  for (const file of ROOTS.flatMap(files)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?<![\w/])FORMATS\.md §\d+/g)) old.push(`${file}: ${m[0]}`);
  }
  t.same(old, []);
});
