/**
 * The repository root, for tests that read vectors, sources or the built
 * command. `npm test` runs the tests compiled by tsc (dist/test/...), and
 * the vector generators run from source (`npx tsx test/entry/gen-vectors.ts`),
 * so a path relative to the file means a different folder in each; this
 * walks up from this file to the folder that holds package.json, which is the
 * same in both.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

export const ROOT = findRoot();

/** A path inside the repository, e.g. `rootPath('vectors/note')`. */
export const rootPath = (...parts: string[]): string => join(ROOT, ...parts);
