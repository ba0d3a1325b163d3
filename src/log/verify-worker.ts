/**
 * Worker thread of the log's signature-verification pool (./verify-pool.ts):
 * verifies batches of Ed25519 signatures with node:crypto, so that the main
 * thread keeps serving HTTP while signatures are checked on another core.
 */
import { parentPort } from 'node:worker_threads';
import { nodeEd25519 } from '../crypto/ed25519-node.js';

interface Job {
  id: number;
  /** Per item: 32-byte key, 64-byte signature, then the message; `ends` marks each item's end. */
  data: Uint8Array;
  ends: Uint32Array;
}

const port = parentPort;
if (port === null) throw new Error('verify-worker: must run in a worker thread');

port.on('message', (job: Job) => {
  const results = new Uint8Array(job.ends.length);
  let start = 0;
  for (let i = 0; i < job.ends.length; i++) {
    const end = job.ends[i]!;
    const key = job.data.subarray(start, start + 32);
    const sig = job.data.subarray(start + 32, start + 96);
    const msg = job.data.subarray(start + 96, end);
    results[i] = nodeEd25519.verify(key, msg, sig) ? 1 : 0;
    start = end;
  }
  port.postMessage({ id: job.id, results }, [results.buffer]);
});
