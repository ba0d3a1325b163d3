/**
 * Split-view detection from honest parts: two in-memory logs under the same
 * key that share a prefix and then diverge. Every pair of their checkpoints
 * is compared; a verdict of split view must come with evidence that
 * `verifyEvidence` accepts, and every consistent pair must be judged so.
 */
import t from 'tap';
import { CompactRange, leafHash, type Hash, type NodeId } from '../../merkle/index.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { utf8 } from '../../src/encoding.js';
import { compareCheckpoints } from '../../src/gossip/splitview.js';
import { formatCheckpoint, generateSigner, openCheckpoint, signNote, verifierFromSigner } from '../../src/note/index.js';
import { verifyEvidence } from '../../src/proof/index.js';

const signer = generateSigner('split.example/log', nodeEd25519);
const key = verifierFromSigner(signer);

function grow(prefix: string, shared: number, total: number) {
  const range = new CompactRange();
  const nodes = new Map<string, Hash>();
  const cps: string[] = [];
  for (let i = 0; i < total; i++) {
    const data = i < shared ? `shared ${i}` : `${prefix} ${i}`;
    for (const n of range.append(leafHash(utf8(data)))) nodes.set(`${n.level}/${n.index}`, n.hash);
    cps.push(signNote(formatCheckpoint({ origin: signer.name, size: range.size, rootHash: range.root() }), [signer], nodeEd25519));
  }
  const read = async (ids: readonly NodeId[]) => ids.map((id) => nodes.get(`${id.level}/${id.index}`)!);
  return { cps, read };
}

t.test('every pair of checkpoints from two diverging logs', async (t) => {
  const shared = 6;
  const a = grow('a', shared, 20);
  const b = grow('b', shared, 20);
  let splits = 0;
  for (let n = 1; n <= 20; n++) {
    for (let m = 1; m <= n; m++) {
      const ours = openCheckpoint(a.cps[n - 1]!, key, nodeEd25519);
      const theirs = openCheckpoint(b.cps[m - 1]!, key, nodeEd25519);
      const res = await compareCheckpoints({ logKey: key, ours, readOurs: a.read, theirs, ed: nodeEd25519 });
      const diverged = m > shared;
      if (diverged) {
        if (res.kind !== 'split-view') t.fail(`ours ${n}, theirs ${m}: expected a split view, got ${res.kind}`);
        else if (!verifyEvidence(res.evidence, key, nodeEd25519).ok) t.fail(`ours ${n}, theirs ${m}: the evidence does not verify`);
        else splits++;
      } else if (res.kind !== 'consistent') {
        t.fail(`ours ${n}, theirs ${m}: expected consistent, got ${res.kind}`);
      }
    }
  }
  t.equal(splits, 105, 'every diverged pair (m > 6, m ≤ n ≤ 20) yields verifiable evidence');
  const small = openCheckpoint(a.cps[4]!, key, nodeEd25519);
  const large = openCheckpoint(b.cps[15]!, key, nodeEd25519);
  t.same(await compareCheckpoints({ logKey: key, ours: small, readOurs: a.read, theirs: large, ed: nodeEd25519 }), { kind: 'undecided' }, 'a larger checkpoint than our tree is undecided');
  const forged = async (ids: readonly NodeId[]) => ids.map(() => new Uint8Array(32));
  const res = await compareCheckpoints({ logKey: key, ours: openCheckpoint(a.cps[19]!, key, nodeEd25519), readOurs: forged, theirs: openCheckpoint(b.cps[9]!, key, nodeEd25519), ed: nodeEd25519 });
  t.equal(res.kind, 'bad-hashes', 'forged hashes are reported as such, never as evidence against the log');
});
