/**
 * Property tests of the ssh and minisign kinds (src/entry/kinds/{ssh,minisign}.ts)
 * on signatures made once by the real tools: the CBOR and JSON forms round
 * trip, and every single-byte change of the signed material (the SSHSIG
 * blob, the hash, the minisign key, signature, comment and global signature)
 * is refused, by the decoder or by verification. The name and annotations
 * are not signed by these tools, so only the body is mutated.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { sha256 } from '../../merkle/hash.js';
import { nodeEd25519 } from '../../src/crypto/ed25519-node.js';
import { decodeAnyEntry, encodeEntryV2, entryV2FromJson, entryV2ToJson, verifyAnyEntry, type EntryV2 } from '../../src/entry/index.js';
import { parseMinisignPublicKey, parseMinisignSignature } from '../../src/sig/minisign.js';
import { dearmorSshSignature } from '../../src/sig/ssh.js';
import { tempDir } from '../log/harness.js';

const dir = tempDir('vitrine-kinds-prop-');
const bytes = new TextEncoder().encode('property artifact\n');
const file = join(dir, 'a.bin');
writeFileSync(file, bytes);
const digest = sha256(bytes);
const run = (cmd: string, args: string[]): void => void execFileSync(cmd, args, { cwd: dir, stdio: 'ignore' });

const entries: Array<[string, EntryV2]> = [];
for (const type of ['ed25519', 'ecdsa'] as const) {
  run('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', `id_${type}`]);
  run('ssh-keygen', ['-Y', 'sign', '-n', 'file', '-f', `id_${type}`, 'a.bin']);
  const sig = dearmorSshSignature(readFileSync(`${file}.sig`, 'utf8'));
  rmSync(`${file}.sig`);
  entries.push([`ssh ${type}`, { version: 2, kind: 'ssh', name: 'a', digest, body: { sig, hash: new Uint8Array(createHash('sha512').update(bytes).digest()) } }]);
}
run('minisign', ['-G', '-W', '-p', 'm.pub', '-s', 'm.key']);
run('minisign', ['-S', '-s', 'm.key', '-m', 'a.bin']);
const ms = parseMinisignSignature(new Uint8Array(readFileSync(`${file}.minisig`)));
entries.push(['minisign', {
  version: 2, kind: 'minisign', name: 'a', digest,
  body: { key: parseMinisignPublicKey(readFileSync(join(dir, 'm.pub'), 'utf8')).bytes, sig: ms.bytes, hash: new Uint8Array(createHash('blake2b512').update(bytes).digest()), comment: ms.trustedComment, global: ms.globalSignature },
}]);

function refused(e: EntryV2): boolean {
  try {
    verifyAnyEntry(decodeAnyEntry(encodeEntryV2(e)), { ed: nodeEd25519 });
    return false;
  } catch {
    return true;
  }
}

for (const [label, entry] of entries) {
  t.test(`${label}: round trips and refuses every single-byte change of its body`, async (t) => {
    const leaf = encodeEntryV2(entry);
    const back = decodeAnyEntry(leaf);
    t.equal(back.version, 2);
    t.same(encodeEntryV2(back.entry as EntryV2), leaf, 'CBOR round trip');
    t.same(encodeEntryV2(entryV2FromJson(JSON.parse(JSON.stringify(entryV2ToJson(entry))))), leaf, 'JSON round trip');
    t.notOk(refused(entry), 'the entry itself verifies');
    let changes = 0;
    let accepted = 0;
    for (const [field, value] of Object.entries(entry.body)) {
      if (!(value instanceof Uint8Array)) continue;
      for (let i = 0; i < value.length; i++) {
        for (const x of [0x01, 0x80]) {
          const v = value.slice();
          v[i] ^= x;
          changes++;
          if (!refused({ ...entry, body: { ...entry.body, [field]: v } })) {
            accepted++;
            t.fail(`${field}[${i}] ^ ${x} was accepted`);
          }
        }
      }
    }
    t.equal(accepted, 0, `all ${changes} single-byte changes refused`);
    // Random changes of the leaf bytes never give a valid entry with another
    // body: what still verifies differs only in unsigned fields (name, and
    // the SHA-256 digest when the signature covers the SHA-512 or BLAKE2b-512,
    // which verifiers match against the file).
    const body = JSON.stringify(entryV2ToJson(entry).body);
    fc.assert(fc.property(fc.integer({ min: 0, max: leaf.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
      const m = leaf.slice();
      m[i] ^= x;
      try {
        const d = decodeAnyEntry(m);
        verifyAnyEntry(d, { ed: nodeEd25519 });
        return d.version === 2 && JSON.stringify(entryV2ToJson(d.entry).body) === body;
      } catch {
        return true;
      }
    }), { numRuns: 300 });
  });
}
