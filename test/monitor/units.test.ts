/**
 * Unit tests of the monitor's pure parts: the policy (docs/formats.md §11 name
 * patterns, rules, releases files, reload), the bundle work (framing, the
 * signed message cut out of the leaf against the encoder, findings), the
 * worker pool against the in-thread path, and the split compact range
 * against merkle/'s CompactRange (fast-check properties).
 */
import t from 'tap';
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompactRange, leafHash, sha256, treeHash } from '../../merkle/index.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { decodeEntry, encodeEntry, entrySignedMessage, signEntry } from '../../src/entry/index.js';
import { bundleEntries, runBundleJob, signedMessageOf, splitBundle, BundleFormatError } from '../../src/monitor/bundle.js';
import { CompiledPolicy, globToRegExp, parsePolicy, parseReleases, PolicyError, PolicyFile } from '../../src/monitor/policy.js';
import { createPool } from '../../src/monitor/pool.js';
import { RebuildRange } from '../../src/monitor/rebuild.js';
import { removeDir, tempDir } from '../log/harness.js';
import { HttpGet } from '../../src/monitor/http-get.js';
import { SecurityFailure } from '../../src/monitor/failures.js';
import { SignedTree, TileSource } from '../../src/monitor/tiles.js';
import { FakeLog } from './fake-log.js';
import { badSignatureEntry, entry, signerA, signerB, vkeyOf } from './fake-log.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** A version-1 signer as the audit hands it to the policy: the raw key, named by its hex key hash (docs/formats.md §4.4). */
const ed = (key: Uint8Array) => ({ algorithm: 'ed25519' as const, key, fingerprint: hex(sha256(key)) });

t.test('name patterns: * any run, ? one character, whole name', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['pkg:npm/my-lib@*', 'pkg:npm/my-lib@1.0.0', true],
    ['pkg:npm/my-lib@*', 'pkg:npm/my-lib@', true],
    ['pkg:npm/my-lib@*', 'pkg:npm/my-lib-evil@1.0.0', false],
    ['pkg:npm/my-lib@*', 'xpkg:npm/my-lib@1', false],
    ['my-tool-*-linux-x64.tar.gz', 'my-tool-1.2.3-linux-x64.tar.gz', true],
    ['my-tool-*-linux-x64.tar.gz', 'my-tool-1.2.3-linux-x64.tar.gz.sig', false],
    ['my-tool-*-linux-x64.tar.gz', 'my-tool-1.2.3-linux-x64Xtar.gz', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a?c', 'a😀c', true],
    ['[a]+(b)|c', '[a]+(b)|c', true],
    ['[a]+(b)|c', 'a', false],
    ['*', '', true],
    ['a.b', 'axb', false],
  ];
  for (const [p, name, want] of cases) t.equal(globToRegExp(p).test(name), want, `${JSON.stringify(p)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(name)}`);
});

t.test('policy rules, keys, revoked', async (t) => {
  const dir = tempDir('vitrine-policy-');
  t.teardown(() => removeDir(dir));
  const d1 = hex(sha256(new TextEncoder().encode('one')));
  writeFileSync(join(dir, 'rel.txt'), `# comment\n\n  pkg:npm/my-lib@1.0.0 ${d1}  \r\nname with spaces ${d1}\n`);
  const spec = parsePolicy(
    JSON.stringify({
      rules: [{ names: ['pkg:npm/my-lib@*'], signers: [vkeyOf(signerA)] }],
      keys: [{ signer: vkeyOf(signerA), releases: 'rel.txt' }],
      revoked: [vkeyOf(signerB)],
    }),
    join(dir, 'policy.json'),
    (p) => readFileSync(p, 'utf8'),
  );
  const p = new CompiledPolicy(spec);
  const A = [ed(signerA.publicKey)];
  const B = [ed(signerB.publicKey)];
  t.same(p.check(0, 'pkg:npm/my-lib@1.0.0', d1, A), [], 'an allowed signer with a listed release: nothing');
  t.same(p.check(0, 'name with spaces', d1, A), [], 'names may contain spaces (the digest is the last field)');
  t.same(p.check(0, 'pkg:npm/my-lib@1.0.0', d1, B).map((f) => f.kind), ['unexpected-signer', 'revoked-key'], 'another signer on a reserved name, and revoked');
  t.same(p.check(0, 'pkg:npm/my-lib@2.0.0', d1, A).map((f) => f.kind), ['unexpected-entry'], 'a release the key owner did not list');
  t.same(p.check(0, 'pkg:npm/my-lib@1.0.0', '0'.repeat(64), A).map((f) => f.kind), ['unexpected-entry'], 'a listed name with another digest');
  t.same(p.check(0, 'other', d1, [ed(signerA.publicKey.map((x) => x ^ 1))]), [], 'an unknown key on an unreserved name: nothing');
  t.match(p.check(5, 'pkg:npm/my-lib@9', d1, B)[0]!.message, /^Entry 5 .*bob\.example\+[0-9a-f]{8}\.$/, 'messages are one sentence naming the entry and the signer');

  t.throws(() => parseReleases('pkg 123', 'r'), PolicyError, 'a short digest is an error');
  t.throws(() => parseReleases(`${d1}`, 'r'), /line 1/, 'a line without a name is an error naming the line');
  t.throws(() => parseReleases(`x ${d1.toUpperCase()}`, 'r'), /lowercase hex/, 'uppercase hex is refused');
  t.throws(() => parsePolicy('{"rules": [{"names": [], "signers": []}]}', 'p', () => ''), /must not be empty/, 'an empty rule is refused');
  t.throws(() => parsePolicy('[]', 'p', () => ''), /JSON object/, 'a non-object is refused');
  t.throws(() => parsePolicy(`{"revoked": ["${vkeyOf(signerA).slice(0, -2)}"]}`, 'p', () => ''), /malformed vkey/, 'a damaged vkey is refused');
});

t.test('PolicyFile re-reads the policy and its releases when they change', async (t) => {
  const dir = tempDir('vitrine-policy-');
  t.teardown(() => removeDir(dir));
  const d1 = hex(sha256(new TextEncoder().encode('one')));
  writeFileSync(join(dir, 'rel.txt'), '');
  writeFileSync(join(dir, 'policy.json'), JSON.stringify({ keys: [{ signer: vkeyOf(signerA), releases: 'rel.txt' }] }));
  const f = new PolicyFile(join(dir, 'policy.json'));
  t.equal(f.refresh(), true, 'first load');
  t.equal(f.refresh(), false, 'unchanged');
  const A = [ed(signerA.publicKey)];
  t.equal(new CompiledPolicy(f.spec).check(0, 'x', d1, A).length, 1, 'x is not a release yet');
  writeFileSync(join(dir, 'rel.txt'), `x ${d1}\n`);
  t.equal(f.refresh(), true, 'a changed releases file is noticed');
  t.equal(new CompiledPolicy(f.spec).check(0, 'x', d1, A).length, 0, 'and in force');
  writeFileSync(join(dir, 'policy.json'), '{');
  t.throws(() => f.refresh(), PolicyError, 'a policy broken while running is an error');
});

t.test('bundles: framing, signed message, findings', async (t) => {
  const entries = [entry(signerA, 'a'), badSignatureEntry(signerB, 'b'), new Uint8Array(0), entry(signerB, 'c')];
  const data = new Uint8Array(entries.reduce((n, e) => n + 2 + e.length, 0));
  let o = 0;
  for (const e of entries) {
    data[o] = e.length >> 8;
    data[o + 1] = e.length & 0xff;
    data.set(e, o + 2);
    o += 2 + e.length;
  }
  t.same(bundleEntries(data, 4).map(hex), entries.map(hex), 'entries come back in order');
  t.throws(() => splitBundle(data, 5), BundleFormatError, 'too few entries');
  t.throws(() => splitBundle(data, 3), /bytes follow/, 'too many');
  t.throws(() => splitBundle(data.subarray(0, data.length - 1), 4), /cut short/, 'a cut entry');

  const r = runBundleJob({ data, width: 4, firstIndex: 1000, skip: 1, audit: true }, new CompiledPolicy({ rules: [], keys: [], revoked: [`key:ed25519:${hex(signerB.publicKey)}`], names: {} }));
  if (!r.ok) throw new Error(r.error);
  t.same(r.findings.map((f) => [f.index, f.kind]), [[1001, 'bad-entry'], [1002, 'bad-entry'], [1003, 'revoked-key']], 'skip honoured; bad signature, empty entry, revoked key');
  t.equal(r.audited, 3, 'three audited');
  t.same(hex(r.leafHashes.subarray(0, 32)), hex(leafHash(entries[0]!)), 'leaf hashes of every entry, skipped ones too');
  t.equal(r.subtree, undefined, 'no subtree for a partial bundle');

  await fc.assert(
    fc.asyncProperty(
      fc.string({ minLength: 1, maxLength: 255 }).filter((s) => s.trim() === s && Buffer.byteLength(s) <= 255 && !/[\u0000-\u001f\u007f-\u009f]/.test(s)),
      fc.option(fc.dictionary(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,10}$/), fc.string({ maxLength: 20 }).filter((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s)), { minKeys: 1, maxKeys: 4 }), { nil: undefined }),
      async (name, annotations) => {
        let bytes: Uint8Array;
        try {
          bytes = encodeEntry(signEntry({ name, digest: sha256(new TextEncoder().encode(name)), ...(annotations ? { annotations } : {}) }, signerA.seed, nodeEd25519));
        } catch {
          return; // a name the entry rules refuse (e.g. lone surrogates)
        }
        const e = decodeEntry(bytes);
        const fast = signedMessageOf(bytes, e);
        if (hex(fast) !== hex(entrySignedMessage(e))) throw new Error(`signed message differs for ${JSON.stringify(name)}`);
      },
    ),
    { numRuns: 200 },
  );
  t.pass('the signed message cut from the leaf equals the encoder\'s (200 random entries)');
});

t.test('the worker pool gives what the in-thread path gives', async (t) => {
  const entries = Array.from({ length: 256 }, (_, i) => (i % 50 === 3 ? badSignatureEntry(signerA, `w${i}`) : entry(i % 2 ? signerA : signerB, `w${i}`)));
  const data = new Uint8Array(entries.reduce((n, e) => n + 2 + e.length, 0));
  let o = 0;
  for (const e of entries) {
    data[o] = e.length >> 8;
    data[o + 1] = e.length & 0xff;
    data.set(e, o + 2);
    o += 2 + e.length;
  }
  const spec = { rules: [{ names: ['w1*'], signers: [`key:ed25519:${hex(signerA.publicKey)}`] }], keys: [], revoked: [], names: {} };
  const inline = createPool(0);
  const pool = createPool(1);
  t.teardown(() => pool.close());
  inline.setPolicy(spec);
  pool.setPolicy(spec);
  const job = { data, width: 256, firstIndex: 0, skip: 0, audit: true };
  const a = await inline.run(job);
  const b = await pool.run({ ...job, data: data.slice() });
  if (!a.ok || !b.ok) throw new Error('job failed');
  t.same(b.findings, a.findings, 'same findings');
  t.ok(a.findings.some((f) => f.kind === 'unexpected-signer') && a.findings.some((f) => f.kind === 'bad-entry'), 'both kinds occur');
  t.equal(hex(b.leafHashes), hex(a.leafHashes), 'same leaf hashes');
  t.equal(hex(b.subtree!), hex(treeHash(entries.map((e) => leafHash(e)))), 'the subtree hash of a full bundle');
});

t.test('the worker pool starts its threads on its first job, so a monitor run with nothing to audit pays for none', async (t) => {
  // Linux: the threads of this process. Worker threads start synchronously in new Worker().
  const threads = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
  const spec = { rules: [], keys: [], revoked: [], names: {} };
  const before = threads();
  const idle = createPool(2);
  idle.setPolicy(spec);
  t.equal(threads(), before, 'creating a pool and setting its policy starts no thread');
  await idle.close();
  t.rejects(idle.run({ data: new Uint8Array(0), width: 256, firstIndex: 0, skip: 0, audit: true }), /closed/, 'a closed pool that never started refuses jobs instead of starting threads');
  t.equal(threads(), before, 'and starts none');
  const pool = createPool(2);
  t.teardown(() => pool.close());
  pool.setPolicy(spec);
  const e = entry(signerA, 'lazy');
  const data = new Uint8Array(2 + e.length);
  data[0] = e.length >> 8;
  data[1] = e.length & 0xff;
  data.set(e, 2);
  const r = await pool.run({ data, width: 1, firstIndex: 0, skip: 0, audit: true });
  t.ok(r.ok, 'the first job runs');
  t.ok(threads() >= before + 2, `the first job started the 2 workers (${before} threads before, ${threads()} after)`);
});

t.test('the split compact range is the compact range', async (t) => {
  await fc.assert(
    fc.property(fc.integer({ min: 0, max: 1500 }), fc.integer({ min: 0, max: 1500 }), (a, b) => {
      const leaves = Array.from({ length: a + b }, (_, i) => sha256(new Uint8Array([i & 255, i >> 8])));
      const ref = new CompactRange();
      for (const l of leaves.slice(0, a)) ref.append(l);
      // Rebuild [0, a) by subtrees and leaves, then restore from hashes and go on to a + b.
      const r = RebuildRange.empty();
      let i = 0;
      for (; i + 256 <= a; i += 256) r.appendSubtree(treeHash(leaves.slice(i, i + 256)));
      for (; i < a; i++) r.appendLeaf(leaves[i]!);
      if (hex(r.root()) !== hex(ref.root())) throw new Error(`root differs at ${a}`);
      const again = RebuildRange.from(a, ref.hashes());
      for (const l of leaves.slice(a)) {
        again.appendLeaf(l);
        ref.append(l);
      }
      if (again.size !== a + b || hex(again.root()) !== hex(ref.root())) throw new Error(`root differs at ${a}+${b}`);
      if (again.hashes().map(hex).join() !== ref.hashes().map(hex).join()) throw new Error('edge hashes differ');
    }),
    { numRuns: 60 },
  );
  t.pass('same root and edge as CompactRange for random sizes, by subtrees and by leaves, across a restore');
});

t.test('tiles are authenticated top-down, up to level 2', async (t) => {
  // 70,000 leaves: full level-1 tiles exist and hang from a partial level-2 tile.
  const leaves = Array.from({ length: 70_000 }, (_, i) => new Uint8Array([i & 255, (i >> 8) & 255, i >> 16]));
  const log = await new FakeLog('tiles.example/log', leaves).start();
  t.teardown(() => log.close());
  const root = log.tree.root;
  const open = () => SignedTree.open(new TileSource(new HttpGet(log.url)), { note: log.checkpoint, size: 70_000, root });
  const tree = await open();
  for (const k of [0, 1, 255, 256, 272]) {
    const want = treeHash(leaves.slice(k * 256, k * 256 + 256).map((l) => leafHash(l)));
    t.equal(hex(await tree.subtreeHash(k)), hex(want), `the level-8 hash of bundle ${k} comes from an authenticated level-1 tile`);
  }
  t.equal(hex(await tree.leafTile(3)), hex(log.honest('tile/0/003')!), 'a full level-0 tile is authenticated against level 1');
  t.ok(log.requests.includes('tile/1/000') && log.requests.includes('tile/2/000.p/1'), 'level 1 full, level 2 partial');

  log.tamper = (path, body) => {
    if (path !== 'tile/1/000' || !body) return body;
    const bad = body.slice();
    bad[100]! ^= 1;
    return bad;
  };
  const again = await open();
  await t.rejects(again.subtreeHash(2), SecurityFailure, 'a forged full level-1 tile fails against level 2');
  const err = await again.subtreeHash(2).catch((e: unknown) => e);
  t.match(err, { kind: 'root-mismatch', subject: 'tile/1/000' }, 'as a root-mismatch naming the tile');
  log.tamper = (path, body) => (path === 'tile/2/000.p/1' && body ? new Uint8Array(32) : body);
  t.match(await open().catch((e: unknown) => e), { kind: 'root-mismatch' }, 'a forged edge tile fails against the signed root');
});
