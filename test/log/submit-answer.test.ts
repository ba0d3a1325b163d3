/**
 * The submission answer of POST /v1/entries is built as JSON text directly
 * (LogService.submitJson, docs/performance.md "Instructions per entry"):
 * its bytes must be exactly JSON.stringify of the answer object that
 * LogService.submit builds, and each field must be what docs/formats.md §7
 * says, checked here against independent code (reference leaf hash and
 * root, formatBundle, the note opener). Also with a non-ASCII origin, where
 * the answer is UTF-8 and not one byte per character, and for a batch of
 * answers that share proof nodes.
 */
import t, { type Test } from 'tap';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { b64decode, b64encode } from '../../src/encoding.js';
import { verifyInclusion } from '../../merkle/index.js';
import { openCheckpoint, parseVerifier } from '../../src/note/index.js';
import { formatBundle } from '../../src/proof/index.js';
import { refLeaf } from './audit.js';
import { makeEntry, removeDir, startLog, type TestLog } from './harness.js';

async function postRaw(url: string, body: Uint8Array): Promise<{ status: number; bytes: Buffer; length: string | null }> {
  const res = await fetch(`${url}/v1/entries`, { method: 'POST', headers: { 'Content-Type': 'application/cbor' }, body });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), length: res.headers.get('content-length') };
}

/** Every field of one answer, checked against independent code. */
function checkFields(t: Test, log: TestLog, entry: Uint8Array, text: string, what: string): void {
  const a = JSON.parse(text) as { index: number; leafHash: string; entry: string; checkpoint: string; inclusionProof: string[]; bundle: string };
  t.same(Object.keys(a), ['index', 'leafHash', 'entry', 'checkpoint', 'inclusionProof', 'bundle'], `${what}: the fields, in order`);
  t.equal(a.entry, b64encode(entry), `${what}: entry`);
  t.equal(a.leafHash, b64encode(refLeaf(entry)), `${what}: leafHash`);
  const cp = openCheckpoint(a.checkpoint, parseVerifier(log.opened.verifierKey), nodeEd25519);
  const proof = a.inclusionProof.map((p) => b64decode(p, 'proof', 32));
  t.doesNotThrow(() => verifyInclusion(refLeaf(entry), a.index, cp.size, proof, cp.rootHash), `${what}: the proof verifies against the checkpoint`);
  t.equal(a.bundle, formatBundle({ entry, index: BigInt(a.index), proof, checkpoint: a.checkpoint }), `${what}: bundle`);
}

for (const origin of ['test.example/log', 'tëst.example/lög']) {
  t.test(`answers are JSON.stringify of the answer object, byte for byte (origin ${origin})`, async (t) => {
    const log = await startLog({ origin });
    t.teardown(async () => {
      await log.close();
      removeDir(log.dir);
    });
    const entries = [makeEntry(), makeEntry(undefined, undefined, { version: '1.0.0', note: 'välue ✓' })];
    for (const [i, entry] of entries.entries()) {
      const fresh = await postRaw(log.url, entry);
      t.equal(fresh.status, 201, `entry ${i}: 201`);
      t.equal(fresh.length, String(fresh.bytes.length), `entry ${i}: Content-Length is the byte length`);
      checkFields(t, log, entry, fresh.bytes.toString('utf8'), `entry ${i}, fresh`);
      // Nothing was committed since: the object form answers with the same checkpoint and proof.
      const accepted = await log.opened.service.accept(entry);
      const object = await log.opened.service.submit(accepted);
      t.equal(object.status, 200, `entry ${i}: the object form sees a duplicate`);
      const again = await postRaw(log.url, entry);
      t.equal(again.status, 200, `entry ${i}: a resubmission answers 200`);
      t.equal(again.bytes.toString('utf8'), JSON.stringify(object.body), `entry ${i}: the duplicate's answer is JSON.stringify of the object form`);
      t.ok(again.bytes.equals(Buffer.from(JSON.stringify(object.body), 'utf8')), `entry ${i}: and its UTF-8 bytes`);
      t.equal(fresh.bytes.toString('utf8'), JSON.stringify(object.body), `entry ${i}: the fresh answer too (same checkpoint)`);
    }
    const note = JSON.parse((await postRaw(log.url, entries[0]!)).bytes.toString('utf8')).checkpoint as string;
    t.ok(note.startsWith(`${origin}\n`), 'the checkpoint names the origin, decoded as UTF-8');

    // A batch of answers that share proof nodes: each is still its own, right answer.
    const burst = Array.from({ length: 64 }, () => makeEntry());
    const answers = await Promise.all(burst.map((e) => postRaw(log.url, e)));
    for (const [i, r] of answers.entries()) {
      if (r.status !== 201) t.fail(`burst ${i}: ${r.status}`);
      else checkFields(t, log, burst[i]!, r.bytes.toString('utf8'), `burst ${i}`);
    }
  });
}
