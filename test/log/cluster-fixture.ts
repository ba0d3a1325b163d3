/**
 * The shared fixture of the tests that run several `vitrine serve` nodes on
 * one PostgreSQL database (cluster*.test.ts, issue 10 §3, docs/operations.md
 * "Running several nodes on PostgreSQL"): a log key on disk, nodes started
 * as real processes on port 0 (optionally with `--workers N`, issue 11 §2),
 * who sequences (read from the nodes' own `sequencing` events, never
 * guessed from timing), closed-loop submitters that record every answer,
 * and the final check that nothing any node acknowledged was lost.
 *
 * Waits are polls on what the nodes say or serve, each with a generous
 * deadline that only bounds a failure: nothing here synchronises by sleeping.
 */
import type { Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { decodeEntry } from '../../src/entry/index.js';
import { cosignerVerifier, formatSigner, formatVerifier, generateSigner, openCheckpoint, parseVerifier, verifierFromSigner } from '../../src/note/index.js';
import { verifyBundle, type BundlePolicy } from '../../src/proof/index.js';
import { audit } from './audit.js';
import { makeEntry, ORIGIN, post, tempDir } from './harness.js';
import { portOf, startProc, type Proc } from '../monitor/procs.js';

export { ORIGIN };

/** The lease every cluster test uses unless it says otherwise: failover in about 2.3 s. */
export const LEASE_MS = 2000;

/**
 * `--db-retry-max-ms` of every PostgreSQL node in the tests: after the
 * database comes back, a node reconnects within half a second instead of
 * the default's up to 20 s (the driver's backoff, docs/operations.md
 * "PostgreSQL outages"). Recovery is the same code path, only sooner.
 */
export const DB_RETRY_MAX_MS = 500;

export type Answer = Awaited<ReturnType<typeof post>>;

export interface Node {
  name: string;
  proc: Proc;
  base: string;
  /** This node's --state-file (its rollback record). */
  state: string;
  /** Set by the test once it killed the node: such nodes are skipped. */
  dead: boolean;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A new Ed25519 key named `name`, written to `path` (mode 0600) as
 * `vitrine keygen --out` writes it, with both of its vkeys: the log-key
 * form and the witness/cosigner form (type 0x04). In-process: the tests
 * that only need a key do not pay for a CLI process (cli-keygen.test.ts
 * tests the command).
 */
export function keyFile(path: string, name: string): { vkey: string; cosignerVkey: string } {
  const signer = generateSigner(name, nodeEd25519);
  writeFileSync(path, `${formatSigner(signer)}\n`, { mode: 0o600 });
  return { vkey: formatVerifier(verifierFromSigner(signer)), cosignerVkey: formatVerifier(cosignerVerifier(signer)) };
}

/** A new log key written to `dir` (mode 0600), and its vkey. */
export function logKey(dir = tempDir()): { path: string; vkey: string } {
  const signer = generateSigner(ORIGIN, nodeEd25519);
  const path = join(dir, 'log.key');
  writeFileSync(path, `${formatSigner(signer)}\n`, { mode: 0o600 });
  return { path, vkey: formatVerifier(verifierFromSigner(signer)) };
}

export interface NodeOptions {
  leaseMs?: number;
  /** `--workers N`: N HTTP worker processes in front of the node's one primary. */
  workers?: number;
  /** More `serve` flags (witnesses, quorum, ...). */
  extra?: readonly string[];
}

/** Starts `vitrine serve --node-name NAME` on the database at `url`; resolves once it listens. */
export async function startNode(url: string, key: string, name: string, dir: string, o: NodeOptions = {}): Promise<Node> {
  const state = join(dir, `${name}.state`);
  const proc = startProc([
    'serve', '--storage', url, '--key', key, '--state-file', state, '--origin', ORIGIN,
    '--listen', '127.0.0.1:0', '--node-name', name, '--lease-ms', String(o.leaseMs ?? LEASE_MS),
    '--db-retry-max-ms', String(DB_RETRY_MAX_MS),
    ...(o.workers !== undefined ? ['--workers', String(o.workers)] : []),
    ...(o.extra ?? []),
  ]);
  const start = await proc.waitEvent('start', 90_000);
  return { name, proc, base: `http://127.0.0.1:${portOf(start)}`, state, dead: false };
}

/**
 * Starts the nodes `names` together, and registers a teardown that kills
 * them all, paused ones and their HTTP workers included.
 */
export async function startNodes(t: Test, url: string, key: string, names: readonly string[], dir: string, o: NodeOptions = {}): Promise<Node[]> {
  const nodes: Node[] = [];
  t.teardown(() => Promise.all(nodes.map((n) => killNode(n))));
  await Promise.all(names.map(async (name) => nodes.push(await startNode(url, key, name, dir, o))));
  // In the order asked for, whatever order they started in.
  nodes.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name));
  return nodes;
}

/** Every JSON event named `event` the node (its primary or any worker) logged so far. */
export function events(node: Node, event: string): Array<Record<string, unknown>> {
  return node.proc.stderr().split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      const e = JSON.parse(line) as Record<string, unknown>;
      return e['event'] === event ? [e] : [];
    } catch {
      return []; // a line still being written
    }
  });
}

/** The pids of the node's HTTP workers, as its primary logged them (`serve --workers`). */
export function workerPids(node: Node): number[] {
  return events(node, 'worker-started').map((e) => Number(e['pid']));
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGKILL to the node (paused or not: it never runs again) and to its HTTP
 * workers, which would exit on their own once the primary is gone.
 */
export async function killNode(node: Node): Promise<void> {
  node.dead = true;
  const pids = workerPids(node);
  await node.proc.stop('SIGKILL');
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/**
 * The live node that took the lease with the highest epoch above `after`,
 * once one did (from its `sequencing` events).
 */
export async function sequencerAfter(nodes: readonly Node[], after: number, timeoutMs = 30_000): Promise<{ node: Node; epoch: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let best: { node: Node; epoch: number } | undefined;
    for (const node of nodes) {
      if (node.dead) continue;
      for (const e of events(node, 'sequencing')) {
        const epoch = Number(e['epoch']);
        if (epoch > after && (!best || epoch > best.epoch)) best = { node, epoch };
      }
    }
    if (best) return best;
    if (Date.now() > deadline) throw new Error(`no node took the lease after epoch ${after}`);
    await sleep(25);
  }
}

/** The size of the checkpoint `base` serves, or -1 while it serves none. */
export async function servedSize(base: string): Promise<number> {
  const res = await fetch(`${base}/checkpoint`);
  return res.status === 200 ? Number((await res.text()).split('\n')[1]) : -1;
}

/**
 * Waits until `node` serves a checkpoint of at least `size` (a follower
 * takes new checkpoints up by polling, every --lease-ms/12); the size it serves.
 */
export async function waitServed(node: Node, size: number, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const served = await servedSize(node.base);
    if (served >= size || Date.now() > deadline) return served;
    await sleep(25);
  }
}

/** The size of the checkpoint in the node's rollback record (--state-file). */
export function recordSize(node: Node, vkey: string): number {
  return Number(openCheckpoint(readFileSync(node.state, 'utf8'), parseVerifier(vkey), nodeEd25519).size);
}

/** The sample line of `name` (with its labels, if the name ends in `{`) in the node's /metrics. */
export async function metric(base: string, name: string): Promise<string> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text.split('\n').find((l) => l.startsWith(name)) ?? '';
}

/**
 * One request on a connection of its own (no keep-alive), so that
 * node:cluster's round-robin spreads a node's requests over its workers.
 */
export function fresh(url: string, method = 'GET', body?: Uint8Array): Promise<{ status: number; text: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: body ? { 'Content-Type': 'application/cbor', 'Content-Length': body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString(), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** POST /v1/entries, given up after `ms` (a TimeoutError). */
export function postWithin(base: string, body: Uint8Array, ms: number): Promise<Answer> {
  return post(base, body, 'application/cbor', ms);
}

/**
 * Submits `entry` at `node`, retrying 503 (a failover, a witness not yet
 * reached) every 100 ms as a client does; the first other answer, or
 * undefined if the node kept answering 503 (or not at all).
 */
export async function submitRetrying(node: Node, entry: Uint8Array, attempts = 200): Promise<Answer | undefined> {
  for (let i = 0; i < attempts; i++) {
    const r = await post(node.base, entry).catch(() => undefined);
    if (r && r.status !== 503) return r;
    await sleep(100);
  }
  return undefined;
}

/**
 * Closed-loop submitters over a set of nodes, recording every answer:
 * each 201/200 (whose bundle must verify, and whose index must never hold
 * another entry), every checkpoint handed out, and anything wrong (a status
 * other than 201/200/503, a 503 without Retry-After).
 */
export class Load {
  readonly acked = new Map<number, Uint8Array>();
  /** Every checkpoint handed out, by size. */
  readonly notes = new Map<number, string>();
  readonly statuses = new Map<number, number>();
  readonly perNode = new Map<string, number>();
  wrong = '';
  #running = false;
  #clients: Array<Promise<void>> = [];

  readonly #trust: BundlePolicy;

  /** Submitters checking answers against `trust`; stopped at the end of `t` whatever happens. */
  constructor(t: Test, trust: BundlePolicy) {
    this.#trust = trust;
    // A test that fails half-way must not leave its clients looping (the file would run to tap's timeout).
    t.teardown(() => this.stop());
  }

  /** Starts `clients` submitters; client i sends its k-th entry to `pick(i, k)` (undefined: none live, wait). */
  start(clients: number, pick: (i: number, k: number) => Node | undefined): void {
    this.#running = true;
    this.#clients = Array.from({ length: clients }, (_, i) => this.#client(i, pick));
  }

  async #client(i: number, pick: (i: number, k: number) => Node | undefined): Promise<void> {
    for (let k = 0; this.#running; k++) {
      const node = pick(i, k);
      if (!node) {
        await sleep(50);
        continue;
      }
      const e = makeEntry();
      const r = await postWithin(node.base, e, 90_000).catch((err: Error) => {
        // A node must answer, if only with a refusal; undici would wait 5 minutes, longer than a test may run.
        if (err.name === 'TimeoutError') this.wrong ||= `${node.name} did not answer a submission within 90 s`;
        return undefined;
      });
      if (!r) continue; // the connection died with its node: not acknowledged, nothing owed
      this.record(node, e, r);
      if (r.status === 503) await sleep(50);
    }
  }

  /** Records one answer to the submission of `e` at `node`. */
  record(node: Node, e: Uint8Array, r: Answer): void {
    this.statuses.set(r.status, (this.statuses.get(r.status) ?? 0) + 1);
    if (r.status === 201 || r.status === 200) {
      const index = r.json.index as number;
      const had = this.acked.get(index);
      if (had && Buffer.compare(had, e) !== 0) this.wrong ||= `two different entries were acknowledged at index ${index}`;
      this.acked.set(index, e);
      this.perNode.set(node.name, (this.perNode.get(node.name) ?? 0) + 1);
      const v = verifyBundle({ digest: decodeEntry(e).digest }, r.json.bundle, this.#trust, nodeEd25519);
      if (!v.ok) this.wrong ||= `the bundle ${node.name} gave for index ${index} does not verify: ${v.message}`;
      this.notes.set(Number(String(r.json.checkpoint).split('\n')[1]), r.json.checkpoint);
    } else if (r.status === 503) {
      if (!/^[1-9][0-9]*$/.test(r.headers.get('retry-after') ?? '')) this.wrong ||= `${node.name} answered 503 without Retry-After`;
    } else {
      this.wrong ||= `${node.name} answered ${r.status}: ${JSON.stringify(r.json)}`;
    }
  }

  /** Waits until `more` further entries were acknowledged (at most `timeoutMs`); whether they were. */
  async waitAcked(more: number, timeoutMs = 60_000): Promise<boolean> {
    const want = this.acked.size + more;
    const deadline = Date.now() + timeoutMs;
    while (this.acked.size < want && Date.now() < deadline) await sleep(25);
    return this.acked.size >= want;
  }

  /** Stops the submitters and waits for their last answers. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#clients);
  }

  /** The size of the largest checkpoint any answer handed out. */
  get largest(): number {
    return Math.max(0, ...this.notes.keys());
  }
}

/**
 * The end of every failover test: each live node serves at least the
 * largest checkpoint any answer handed out, and an independent audit of
 * each (tiles, bundles, and consistency with `earlier` checkpoints handed
 * out, all of them at the first node) finds every acknowledged entry at its
 * index in one and the same tree.
 */
export async function checkNothingLost(t: Test, nodes: readonly Node[], vkey: string, load: { acked: Map<number, Uint8Array>; notes: Map<number, string> }): Promise<void> {
  const live = nodes.filter((n) => !n.dead);
  const largest = Math.max(0, ...load.notes.keys());
  for (const n of live) {
    const served = await waitServed(n, largest);
    t.ok(served >= largest, `${n.name} serves a tree of at least ${largest}, the largest handed out (it serves ${served})`);
  }
  const all = [...load.notes.values()];
  const final = await audit(live[0]!.base, vkey, all);
  t.pass(`${live[0]!.name}: all ${all.length} checkpoints handed out are consistent with its tree of ${final.size}`);
  let lost = 0;
  for (const [index, e] of load.acked) if (Buffer.compare(final.entries[index] ?? new Uint8Array(), e) !== 0) lost++;
  t.equal(lost, 0, `every one of the ${load.acked.size} acknowledged entries is at its index`);
  for (const n of live.slice(1)) {
    const other = await audit(n.base, vkey, all.slice(-20));
    const common = Math.min(other.size, final.size);
    t.ok(common === 0 || Buffer.compare(final.entries[common - 1]!, other.entries[common - 1]!) === 0, `${n.name} serves the same tree (size ${other.size})`);
  }
}
