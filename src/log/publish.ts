/**
 * `serve --publish-dir DIR` (issue 10 §4, docs/operations.md "Publishing
 * the read path as static files"): the c2sp.org/tlog-tiles read path
 * written as plain files, so that nginx or a CDN can serve it.
 *
 *   DIR/checkpoint            what GET /checkpoint answers
 *   DIR/tile/<L>/<N>[.p/<W>]  hash tiles
 *   DIR/tile/entries/<N>[.p/<W>]  entry bundles
 *
 * Every file holds the very bytes the API answers for its path: they come
 * from the same LogService methods the HTTP handlers call. Each file is
 * written atomically (temporary file, fsync, rename), and the tiles a
 * checkpoint needs are written, and their directories fsynced, before the
 * checkpoint is replaced, so a reader (or a crash) never meets a checkpoint
 * whose tiles are missing. Tiles and bundles are immutable once written
 * (a partial tile of width W never changes), so an existing file is kept.
 *
 * Publishing runs beside the log, never in a submission's path: it is
 * woken after every commit and every new cosignature, coalesces what
 * happened meanwhile, and retries after a failure (a full disk) without
 * stopping the log.
 */
import { mkdirSync } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { entriesPath, tilePath, tileWidth, TILE_WIDTH } from '../../merkle/index.js';
import { PushbackError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { StartupError } from './storage.js';

/** What the publisher reads: the LogService calls behind GET /checkpoint and GET /tile/... */
export interface PublishSource {
  /** The checkpoint GET /checkpoint serves; throws PushbackError while there is none to serve. */
  checkpoint(): string;
  readonly size: number;
  tile(level: number, index: number, width: number): Promise<Uint8Array>;
  entryBundle(index: number, width: number): Promise<Uint8Array>;
}

const RETRY_MS = 1000;

export class Publisher {
  readonly #dir: string;
  readonly #src: PublishSource;
  readonly #log: Logger;
  /** Every tile of the tree of this size is on disk. */
  #published = 0;
  #checkpoint: string | undefined;
  #dirty = false;
  #running: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  /** Makes DIR if needed; a directory that cannot be made is a StartupError. */
  constructor(dir: string, src: PublishSource, log: Logger = () => {}) {
    try {
      mkdirSync(join(dir, 'tile'), { recursive: true });
    } catch (err) {
      throw new StartupError(`cannot use --publish-dir ${dir}: ${(err as Error).message}`);
    }
    this.#dir = dir;
    this.#src = src;
    this.#log = log;
  }

  /** Something changed (a commit, a cosignature): publish it soon. Never throws. */
  kick(): void {
    if (this.#closed) return;
    this.#dirty = true;
    this.#running ??= this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once everything kicked so far is on disk (or failed and awaits its retry). */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Publishes what is pending, then stops. */
  async close(): Promise<void> {
    if (this.#retry) clearTimeout(this.#retry);
    this.#dirty = true;
    this.#running ??= this.#loop().finally(() => {
      this.#running = undefined;
    });
    await this.flush();
    this.#closed = true;
  }

  /** Stops at once, publishing nothing more (a simulated crash). */
  stop(): void {
    this.#closed = true;
    this.#dirty = false;
    if (this.#retry) clearTimeout(this.#retry);
  }

  async #loop(): Promise<void> {
    while (this.#dirty) {
      this.#dirty = false;
      try {
        await this.#once();
      } catch (err) {
        this.#log('publish-failed', { dir: this.#dir, message: (err as Error).message });
        if (!this.#closed && !this.#retry) {
          this.#retry = setTimeout(() => {
            this.#retry = undefined;
            this.kick();
          }, RETRY_MS);
          this.#retry.unref();
        }
        return;
      }
    }
  }

  async #once(): Promise<void> {
    // The checkpoint first, then the size: the tree is never smaller than what the checkpoint covers.
    let note: string | undefined;
    try {
      note = this.#src.checkpoint();
    } catch (err) {
      if (!(err instanceof PushbackError)) throw err;
    }
    const size = this.#src.size;
    if (size > this.#published) {
      const dirs = new Set<string>();
      for (let level = 0; Math.floor(size / TILE_WIDTH ** level) > 0; level++) {
        const from = Math.floor(Math.floor(this.#published / TILE_WIDTH ** level) / TILE_WIDTH);
        const to = Math.ceil(Math.floor(size / TILE_WIDTH ** level) / TILE_WIDTH);
        for (let index = from; index < to; index++) {
          const width = tileWidth(level, index, size);
          const path = tilePath({ level, index: BigInt(index), width });
          for (const d of await this.#write(path, () => this.#src.tile(level, index, width), true)) dirs.add(d);
          if (level === 0) {
            const bundle = entriesPath({ index: BigInt(index), width });
            for (const d of await this.#write(bundle, () => this.#src.entryBundle(index, width), true)) dirs.add(d);
          }
        }
      }
      // The renames are durable once their directories are; only then may a checkpoint point at them.
      for (const d of dirs) await syncDir(d);
      this.#published = size;
    }
    if (note !== undefined && note !== this.#checkpoint) {
      await this.#write('checkpoint', async () => new TextEncoder().encode(note), false);
      await syncDir(this.#dir);
      this.#checkpoint = note;
    }
  }

  /**
   * Writes `path` atomically; with `immutable`, keeps an existing file. The
   * directories whose entries changed (the file's, and the parents of any it
   * had to make), to fsync before anything points at the file.
   */
  async #write(path: string, body: () => Promise<Uint8Array>, immutable: boolean): Promise<string[]> {
    const file = join(this.#dir, path);
    if (immutable && (await exists(file))) return [];
    const data = await body();
    const changed = [dirname(file)];
    const made = await mkdir(dirname(file), { recursive: true });
    if (made !== undefined) for (let d = dirname(file); d !== dirname(made); d = dirname(d)) changed.push(dirname(d));
    const tmp = join(dirname(file), `.${path.split('/').pop()}.${process.pid}.tmp`);
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } catch (err) {
      await fh.close();
      await unlink(tmp).catch(() => {});
      throw err;
    }
    await fh.close();
    await rename(tmp, file);
    return changed;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function syncDir(path: string): Promise<void> {
  const d = await open(path, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
