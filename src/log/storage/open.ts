/**
 * `--storage SPEC` (docs/operations.md): which backend a log runs on.
 *
 *   sqlite:DIR                        the embedded default; the same as --data DIR
 *   postgres://USER@HOST:PORT/DB      PostgreSQL (postgresql:// too); the PG*
 *                                     environment variables fill what the URL leaves out
 *
 * A password may be in the URL or in PGPASSWORD (~/.pgpass is not read: the
 * client is not libpq); it is never printed: `redactStorage` is what
 * messages and logs show.
 */
import { MalformedError } from '../../errors.js';

export type StorageSpec = { kind: 'sqlite'; dir: string } | { kind: 'postgres'; url: string };

export function parseStorageSpec(spec: string): StorageSpec {
  if (spec.startsWith('sqlite:')) {
    const dir = spec.slice('sqlite:'.length);
    if (dir === '') throw new MalformedError('--storage sqlite:DIR needs a directory');
    return { kind: 'sqlite', dir };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    try {
      new URL(spec);
    } catch {
      throw new MalformedError(`--storage: ${redactStorage(spec)} is not a valid postgres:// URL`);
    }
    return { kind: 'postgres', url: spec };
  }
  throw new MalformedError(`--storage: ${JSON.stringify(redactStorage(spec))} is neither sqlite:DIR nor postgres://USER@HOST:PORT/DB`);
}

/** The spec with any password replaced by "***", for messages and logs. */
export function redactStorage(spec: string): string {
  try {
    const u = new URL(spec);
    if (u.password !== '') u.password = '***';
    return u.protocol.startsWith('postgres') ? u.toString() : spec;
  } catch {
    // Not a URL: blank out anything that looks like user:password@.
    return spec.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}
