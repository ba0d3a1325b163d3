/**
 * Worker thread entry (node:worker_threads) of the audit pool: runs bundle
 * jobs (./bundle.ts) so that Ed25519 verification of entries spreads over
 * the cores while the main thread fetches, authenticates and rebuilds the
 * tree. Receives the policy whenever it changes; the main thread never sends
 * a job for a policy version the worker has not been given.
 */
import { parentPort } from 'node:worker_threads';
import { runBundleJob } from './bundle.js';
import { CompiledPolicy, type PolicySpec } from './policy.js';

type Message =
  | { type: 'policy'; version: number; spec: PolicySpec }
  | { type: 'job'; id: number; policyVersion: number; data: Uint8Array; width: number; firstIndex: number; skip: number; audit: boolean };

const port = parentPort;
if (port === null) throw new Error('audit-worker: must run in a worker thread');

let policy: CompiledPolicy | undefined;
let version = -1;

port.on('message', (msg: Message) => {
  if (msg.type === 'policy') {
    policy = new CompiledPolicy(msg.spec);
    version = msg.version;
    return;
  }
  try {
    if (msg.audit && msg.policyVersion !== version) throw new Error(`policy version ${msg.policyVersion} was never sent (have ${version})`);
    const result = runBundleJob(msg, policy);
    if (result.ok) {
      const transfer = [result.leafHashes.buffer as ArrayBuffer];
      port.postMessage({ id: msg.id, result }, transfer);
    } else {
      port.postMessage({ id: msg.id, result });
    }
  } catch (err) {
    port.postMessage({ id: msg.id, crash: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
