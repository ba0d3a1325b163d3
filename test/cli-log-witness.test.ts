/**
 * `vitrine log --witness-key` (issue 14): the cosignatures on the served
 * checkpoint are verified for the witnesses given, each reported by its one
 * name (name+keyID of its cosigner vkey), with a quorum; a bad cosignature
 * by a given witness fails. The log is a test server (test/monitor/fake-log.ts)
 * whose checkpoint carries cosignature lines made with the witnesses' keys;
 * the first run is the built binary, the other cases run in this process
 * (test/_cli.ts vitrineIn).
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeEd25519 } from '../src/crypto/ed25519-node.js';
import { cosign, cosignerVerifier, formatVerifier, generateSigner, verifierFromSigner } from '../src/note/index.js';
import { vitrine as spawned, vitrineIn as vitrine } from './_cli.js';
import { entry, FakeLog, signerA } from './monitor/fake-log.js';

t.test('log --witness-key verifies cosignatures and names each witness', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-log-witness-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = await new FakeLog('witnessed.example/log', [entry(signerA, 'pkg:generic/a@1')]).start();
  t.teardown(() => log.close());
  const w1 = generateSigner('w1.example/witness', nodeEd25519);
  const w2 = generateSigner('w2.example/witness', nodeEd25519);
  const w3 = generateSigner('w3.example/witness', nodeEd25519);
  const vkey = (s: typeof w1) => formatVerifier(cosignerVerifier(s));
  // One name per witness: name+keyID of its cosigner vkey, read from the vkey text itself.
  const oneName = (s: typeof w1) => vkey(s).split('+').slice(0, 2).join('+');
  writeFileSync(join(dir, 'w1.vkey'), `${vkey(w1)}\n`);
  writeFileSync(join(dir, 'w2.vkey'), `${vkey(w2)}\n`);
  const signed = log.publish();
  const body = signed.slice(0, signed.indexOf('\n\n') + 1);
  const ts = 1_700_000_000;
  const goodW1 = cosign(body, w1, ts, nodeEd25519);
  log.checkpoint = signed + goodW1 + cosign(body, w3, ts + 1, nodeEd25519);
  const base = ['log', '--log', log.url, '--log-key', log.vkey];

  const one = await spawned(dir, [...base, '--witness-key', 'w1.vkey', '--json']);
  t.equal(one.code, 0, `w1 cosigned: exit 0 (${one.stderr})`);
  const doc = JSON.parse(one.stdout) as Record<string, unknown>;
  t.same(doc['witnesses'], [{ witness: oneName(w1), cosigned: true, timestamp: ts }], 'w1 reported by name+keyID, cosigned at its timestamp');
  t.match(doc, { quorum: 1, quorumMet: true, size: 1, checkpoint: log.checkpoint }, 'the quorum of all given witnesses is met');
  t.same(doc['cosignatures'], [
    { name: 'w1.example/witness', keyId: oneName(w1).split('+')[1], verified: true },
    { name: 'w3.example/witness', keyId: oneName(w3).split('+')[1], verified: false },
  ], 'every cosignature line, marked verified only for the witnesses given');

  const asEd = await vitrine(dir, [...base, '--witness-key', formatVerifier(verifierFromSigner(w1))]);
  t.equal(asEd.code, 0, `w1 given as its type-0x01 vkey: exit 0 (${asEd.stderr})`);
  t.match(asEd.stdout, new RegExp(`cosigned by ${oneName(w1).replace(/[+.]/g, '\\$&')} at 2023-11-14T22:13:20\\.000Z \\(verified\\)`), 'named by the same one name, with the time');
  t.match(asEd.stdout, /cosigned by w3\.example\/witness\+[0-9a-f]{8} \(not checked: give its key with --witness-key\)/, 'an unlisted cosigner is shown as not checked');

  const both = await vitrine(dir, [...base, '--witness-key', 'w1.vkey', '--witness-key', 'w2.vkey']);
  t.equal(both.code, 1, 'w2 did not cosign and the default quorum is all: exit 1');
  t.match(both.stdout, new RegExp(`NOT cosigned by ${oneName(w2).replace(/[+.]/g, '\\$&')}\n`), 'the missing witness is named');
  t.match(both.stderr, new RegExp(`fewer than the quorum of 2; not cosigned by ${oneName(w2).replace(/[+.]/g, '\\$&')}\n$`), 'and the failure says which');
  const quorum1 = await vitrine(dir, [...base, '--witness-key', 'w1.vkey', '--witness-key', 'w2.vkey', '--quorum', '1', '--json']);
  t.equal(quorum1.code, 0, '--quorum 1 is met by w1');
  t.match(JSON.parse(quorum1.stdout), { quorum: 1, quorumMet: true, witnesses: [{ cosigned: true }, { witness: oneName(w2), cosigned: false, timestamp: null }] }, 'and the report says w2 did not cosign');
  const tooMany = await vitrine(dir, [...base, '--witness-key', 'w1.vkey', '--quorum', '2']);
  t.equal(tooMany.code, 2, 'a quorum above the witnesses given is a usage error');

  // A cosignature line of a given witness that does not verify rejects the checkpoint.
  const sig = goodW1.trimEnd().split(' ').pop()!;
  const raw = Buffer.from(sig, 'base64');
  raw[raw.length - 1]! ^= 1;
  log.checkpoint = signed + goodW1.replace(sig, raw.toString('base64'));
  const bad = await vitrine(dir, [...base, '--witness-key', 'w1.vkey']);
  t.equal(bad.code, 1, 'a bad cosignature by w1: exit 1');
  t.match(bad.stderr, /cosignature by a --witness-key witness does not verify/, 'saying so');
  t.equal(bad.stdout, '', 'and nothing is shown');
  const unchecked = await vitrine(dir, base);
  t.equal(unchecked.code, 0, 'without --witness-key the line is not checked (the log signature is)');
});
