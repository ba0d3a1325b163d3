/**
 * `vitrine monitor`: audits one or more logs from a state directory and
 * alerts on anything wrong. The guide is docs/monitoring.md; the formats
 * are docs/formats.md §11 (policy), §12 (alerts) and §13 (HTTP API). This file
 * holds the flags; ./monitor-run.ts, loaded only when the command runs,
 * does the work.
 */
import { Option, type Command } from 'commander';
import { VitrineError } from '../src/errors.js';
import type { MonitorFlags } from './monitor-run.js';
import { CliError, collect, EXIT_USAGE, intOption, UsageError } from './common.js';
import type { Io } from './io.js';

export function register(program: Command, io: Io): void {
  const monitor = program
    .command('monitor')
    .description('audit transparency logs: consistency from tiles, every entry and signature, a signer policy; alert on anything wrong')
    // Not requiredOption: the subcommands read it from here too (commander gives options before or after them to this command).
    .option('--state <dir>', 'state directory (state.db, alerts.jsonl); created only with --init (required)')
    .option('--log <url>', 'a log to follow (repeat for several, each with its --log-key)', collect, [])
    .option('--log-key <vkey>', "the log's verifier key, or a file holding it (one per --log, in order)", collect, [])
    .option('--config <file>', 'JSON file listing logs: {"logs": [{"url": "...", "key": "..."}], "policy": "..."}')
    .option('--policy <file>', 'policy (docs/monitoring.md "Policy"): which signers, attestation predicateTypes and SLSA builders each name allows; re-read when it changes')
    .option('--interval <seconds>', 'seconds between polls', intOption('--interval', 1, 86_400), 30)
    .option('--once', 'audit up to each log\'s current checkpoint, deliver alerts, exit (see Exit status)')
    .option('--json', 'with --once: print one JSON object at the end, {"alerts": [...], "security", "operational", "unacknowledged", "audited", "undelivered", "exitCode"}, instead of one line per alert')
    .option('--init', 'create a new state (refuses to overwrite one); each log is audited from its first entry')
    .option('--add', 'add the configured logs an existing state does not follow yet')
    .option('--from-checkpoint <file>', 'with --init/--add: start that log at this signed checkpoint; earlier entries are NOT audited (recorded in the state)', collect, [])
    .option('--webhook <url>', 'POST each alert (JSON) here; retried with backoff until delivered')
    .option('--exec <command>', 'run this shell command for each alert, with VITRINE_ALERT_* variables')
    .option('--listen <host:port>', 'serve /healthz, /metrics, /<hex sha256(origin)>/checkpoint, POST /v1/gossip, GET /v1/evidence')
    .option('--witness-key <file>', 'act as a c2sp.org/tlog-witness witness for every followed log with this skey (mode 0600; needs --listen); cosignatures in STATE/witness.db')
    .option('--peer <url>', 'a peer monitor to gossip checkpoints with (repeatable): push ours to <url>/v1/gossip, pull theirs each --interval', collect, [])
    .addOption(new Option('--peer-timeout <seconds>', 'timeout of one gossip request').argParser(intOption('--peer-timeout', 1, 600)).default(10).hideHelp())
    .option('--max-lag <seconds>', 'raise falling-behind when catching up takes longer than this', intOption('--max-lag', 1, 7 * 86_400), 300)
    .addOption(new Option('--workers <n>', 'signature-verification worker threads (default: one per core)').argParser(intOption('--workers', 0, 64)).hideHelp())
    .addOption(new Option('--tree-only', 'benchmark: rebuild the tree without checking entries (recorded as not audited)').hideHelp())
    .addOption(new Option('--chunk-bundles <n>', 'entry bundles per commit').argParser(intOption('--chunk-bundles', 1, 4096)).hideHelp())
    .addOption(new Option('--pace-ms <ms>', 'test hook: pause after each commit').argParser(intOption('--pace-ms', 0, 60_000)).hideHelp())
    .addOption(new Option('--delivery-timeout <seconds>', 'with --once: how long to keep retrying webhook/exec deliveries').argParser(intOption('--delivery-timeout', 0, 3600)).default(30).hideHelp())
    .addOption(new Option('--retry-base-ms <ms>', 'first webhook/exec retry delay').argParser(intOption('--retry-base-ms', 1, 3_600_000)).hideHelp())
    .addHelpText(
      'after',
      `
Examples:
  vitrine monitor --state ./mon --init --log https://log.example.com --log-key log.vkey --policy policy.json
  vitrine monitor --state ./mon --log https://log.example.com --log-key log.vkey --policy policy.json --once
  vitrine monitor --state ./mon --log https://log.example.com --log-key log.vkey --webhook https://hooks.example/x --listen 127.0.0.1:9100
  vitrine monitor --state ./mon --log https://log.example.com --log-key log.vkey --listen 0.0.0.0:9100 \\
      --witness-key witness.key --peer https://monitor2.example:9100
  vitrine monitor alerts --state ./mon --open
  vitrine monitor ack --state ./mon 3 --by alice

Policy (JSON): {"rules": [{"names": ["pkg:npm/my-lib@*"], "signers": [KEY, ...],
    "predicateTypes": ["https://slsa.dev/provenance/v1"], "builders": ["https://github.com/my-org/*"]}],
  "keys": [{"signer": KEY, "releases": "releases.txt"}], "revoked": [KEY]}
  KEY is a public key (an OpenSSH line, a minisign public key, a PEM block, a
  vkey, or {"file": "key.pub"}) or its one name (SHA256:... as ssh-keygen -l
  prints it, a minisign key ID, name+keyID of a vkey). An entry outside the
  rules raises unexpected-signer, unexpected-attestation, unexpected-entry or
  revoked-key, all security alerts.

Alerts are JSON lines on stdout and in STATE/alerts.jsonl; logs are JSON lines on stderr.
See docs/monitoring.md and docs/witnessing.md.

Exit status: with --once, 0 clean; 1 a security alert was raised or met, or
one raised earlier is not acknowledged yet (vitrine monitor ack); 2 an
operational failure (log unreachable, deliveries pending) or a usage or
start-up error. Without --once: 0 when stopped by SIGINT/SIGTERM, 2 when it
cannot start.`,
    )
    .action(
      async (given: Omit<MonitorFlags, 'state'> & { state?: string }) => {
        const state = given.state;
        if (state === undefined) throw new UsageError("required option '--state <dir>' not specified");
        const flags: MonitorFlags = { ...given, state };
        const { run, asStartupError } = await import('./monitor-run.js');
        try {
          await run(flags);
        } catch (err) {
          if (err instanceof CliError || err instanceof UsageError) throw err;
          const startup = asStartupError(err);
          if (startup instanceof CliError) throw startup;
          // Exit 1 means "a security alert" to CI: anything unexpected is a failure of the monitor itself.
          const message = err instanceof VitrineError || err instanceof Error ? err.message : String(err);
          if (io.env['VITRINE_DEBUG'] && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
          throw new CliError(err instanceof VitrineError ? message : `internal error: ${message}`, EXIT_USAGE);
        }
      },
    );

  monitor
    .command('alerts')
    .description('list the alerts a monitor state holds, with who acknowledged them and when (give --state DIR)')
    .option('--open', 'only the unacknowledged security alerts (those that keep --once exiting 1)')
    .option('--json', 'print one JSON array: [{"id", "acknowledged": {"by", "at"} | null, "alert": {...}}]')
    .addHelpText(
      'after',
      `
Example:
  vitrine monitor alerts --state ./mon --open

Each alert is one line: id, time, class, kind, origin (and entry), status;
its message on the next line. With a monitor running on the state, it answers
(through STATE/control.sock); otherwise the state is read directly.

Exit status: 0 no security alert stands unacknowledged; 1 at least one does;
2 usage error, or no readable state.`,
    )
    .action(
      async (opts: { open?: boolean; json?: boolean }, cmd: Command) => {
        const { listAlerts } = await import('./monitor-alerts.js');
        await listAlerts({ ...opts, ...stateOf(cmd) }, io);
      },
    );

  monitor
    .command('ack')
    .description('acknowledge alerts by id (or --all), recording who and when in the state (give --state DIR)')
    .argument('[id...]', 'alert ids, as vitrine monitor alerts lists them')
    .option('--all', 'acknowledge every alert not acknowledged yet')
    .option('--by <name>', 'who acknowledges (default: user@host)')
    .option('--json', 'print {"acknowledged": [ids], "by", "unacknowledgedSecurity"}')
    .addHelpText(
      'after',
      `
Examples:
  vitrine monitor ack --state ./mon 3 4 --by alice
  vitrine monitor ack --state ./mon --all

An acknowledgement says someone has seen the alert; it does not clear a
condition that still stands (a log still rolled back or inconsistent makes
every --once run exit 1 again). With a monitor running on the state, the
running monitor records it at once (through STATE/control.sock).

Exit status: 0 done, and no security alert is left unacknowledged; 1 done,
but some are left; 2 usage error, unknown id (nothing recorded), or no
readable state.`,
    )
    .action(
      async (ids: string[], opts: { all?: boolean; by?: string; json?: boolean }, cmd: Command) => {
        const { ackAlerts } = await import('./monitor-alerts.js');
        await ackAlerts(ids, { ...opts, ...stateOf(cmd) }, io);
      },
    );
}

/** --state and --json, which the parent `monitor` command parses wherever they are given. */
function stateOf(cmd: Command): { state?: string; json?: true } {
  const parent = cmd.parent?.opts<{ state?: string; json?: boolean }>() ?? {};
  return { ...(parent.state === undefined ? {} : { state: parent.state }), ...(parent.json === true || cmd.opts<{ json?: boolean }>().json === true ? { json: true as const } : {}) };
}
