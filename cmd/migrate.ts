/**
 * `vitrine migrate --from sqlite:DIR --to postgres://...`: copies a stopped
 * SQLite log into a new PostgreSQL database and verifies it
 * (src/log/migrate.ts). Afterwards, start the log with
 * `vitrine serve --storage postgres://... --key DIR/log.key` (docs/operations.md).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { CliError, UsageError } from './common.js';
import type { Io } from './io.js';

export function register(program: Command, io: Io): void {
  program
    .command('migrate')
    .description('copy a SQLite log (stopped) into a new, empty PostgreSQL database, verifying its tree against the last signed checkpoint')
    .requiredOption('--from <spec>', 'the log to copy: sqlite:DIR (or just DIR)')
    .requiredOption('--to <spec>', 'the new database: postgres://USER@HOST:PORT/DB (PG* environment variables apply)')
    .requiredOption('--origin <origin>', 'the log origin (checked against the source)')
    .option('--key <file>', "the log's skey (default DIR/log.key)")
    .option('--json', 'print {"entries", "size", "rootHash", "to"} (docs/cli.md)')
    .addHelpText('after', `
Example:
  vitrine migrate --from sqlite:/var/lib/vitrine --to postgres://vitrine@db.example/vitrine --origin log.example.com/vitrine

The source must not be served meanwhile (its directory lock is taken). The
copy is one transaction: if any check fails, the database stays empty.`)
    .action(async (opts: { from: string; to: string; origin: string; key?: string; json?: boolean }) => {
      const [{ parseStorageSpec, redactStorage }, { lockDir, loadOrCreateKey, StartupError }, { SqliteStorage }, { openPostgres }, { migrateLog }, { nodeEd25519 }, { verifierFromSigner }, { b64encode }] =
        await Promise.all([
          import('../src/log/storage/open.js'), import('../src/log/datadir.js'), import('../src/log/storage/sqlite.js'), import('../src/log/storage/postgres.js'),
          import('../src/log/migrate.js'), import('../src/crypto/ed25519-node.js'), import('../src/note/index.js'), import('../src/encoding.js'),
        ]);
      let from, to;
      try {
        from = parseStorageSpec(opts.from.includes(':') ? opts.from : `sqlite:${opts.from}`);
        to = parseStorageSpec(opts.to);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      if (from.kind !== 'sqlite') throw new UsageError('--from: only a SQLite log (sqlite:DIR) can be migrated');
      if (to.kind !== 'postgres') throw new UsageError('--to: give a postgres:// URL');
      const target = redactStorage(to.url);
      let release: (() => void) | undefined;
      let source: InstanceType<typeof SqliteStorage> | undefined;
      let dest: Awaited<ReturnType<typeof openPostgres>> | undefined;
      try {
        release = lockDir(from.dir);
        source = new SqliteStorage(join(from.dir, 'log.db'));
        const { signer } = loadOrCreateKey(opts.key ?? join(from.dir, 'log.key'), opts.origin, false);
        dest = await openPostgres(to.url);
        const result = await migrateLog({ from: source, to: dest, origin: opts.origin, verifier: verifierFromSigner(signer), ed: nodeEd25519 });
        const rootHash = b64encode(result.rootHash);
        io.stdout.write(
          opts.json
            ? `${JSON.stringify({ entries: result.entries, size: result.size, rootHash, to: target })}\n`
            : `migrated ${result.entries} entries to ${target}: size ${result.size}, root ${rootHash} matches the last signed checkpoint\n`,
        );
      } catch (err) {
        if (err instanceof StartupError) throw new CliError(`migrate refused: ${err.message}`);
        throw new CliError(`migrate failed (${target} is unchanged): ${(err as Error).message}`);
      } finally {
        await dest?.close();
        source?.closeSync();
        release?.();
      }
    });
}
