/**
 * The verifier runs in browsers (ARCHITECTURE.md): bundle src/proof with
 * esbuild for the browser platform, check that nothing Node-only is
 * reached, then run it in a bare V8 context that has none of Node's globals
 * (no process, require, Buffer, module), only what a browser provides and
 * the code uses (TextEncoder, TextDecoder, crypto), and verify the
 * reference bundle and evidence there.
 */
import t from 'tap';
import { build } from 'esbuild';
import { webcrypto } from 'node:crypto';
import { join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { noteVectors, proofVectors, ROOT } from './_helpers.js';

const pv = proofVectors();
const nv = noteVectors();

t.test('src/proof bundles for the browser and verifies without Node APIs', async (t) => {
  const result = await build({
    entryPoints: [join(ROOT, 'src/proof/index.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'vitrineProof',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  t.same(result.errors, [], 'esbuild reports no errors');
  const inputs = Object.keys(result.metafile.inputs);
  const foreign = inputs.filter((p) => !/^(src\/(proof|note|entry|crypto\/(ed25519|p256)\.ts|sig\/(spki|dsse|intoto|strict-json|ssh|minisign)\.ts|encoding\.ts|errors\.ts)|merkle\/|node_modules\/(@noble|cbor-x)\/)/.test(p));
  t.same(foreign, [], `only pure modules are bundled (got ${inputs.join(', ')})`);
  t.notOk(inputs.some((p) => p.includes('ed25519-node') || p.includes('p256-node')), 'the node:crypto Ed25519 and P-256 backends are not reachable');
  t.notOk(inputs.some((p) => p.endsWith('src/entry/digest.ts')), 'the streaming file digest (node:fs) is not reachable');
  t.notOk(inputs.some((p) => p.startsWith('node:') || p.includes('<define:')), 'no node: built-in among the inputs');
  const code = result.outputFiles[0]!.text;
  t.notMatch(code, /\bfrom\s*["']node:|\brequire\(\s*["']node:|import\(\s*["']node:/, 'the output imports no node: module');

  // A browser has TextEncoder/TextDecoder/crypto of its own realm; give the
  // context its own TextEncoder so its Uint8Arrays are the context's.
  const context = createContext({ __TE: TextEncoder, TextDecoder, crypto: webcrypto, console });
  runInContext(
    `(() => {
      const Outer = globalThis.__TE;
      delete globalThis.__TE;
      globalThis.TextEncoder = class TextEncoder {
        get encoding() { return 'utf-8'; }
        encode(s) { const o = new Outer().encode(s); const r = new Uint8Array(o.length); r.set(o); return r; }
      };
    })()`,
    context,
  );
  const globals = runInContext(`[typeof process, typeof require, typeof Buffer, typeof module, typeof global, typeof setImmediate]`, context) as string[];
  t.same(globals, ['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined'], 'the context has none of Node globals');
  runInContext(code, context);

  const tampered = pv.bundle.replace('\nindex 3\n', '\nindex 2\n');
  const script = `(() => {
    const p = vitrineProof;
    const enc = new TextEncoder();
    const policy = { logKey: ${JSON.stringify(nv.log.vkey)}, witnesses: [${JSON.stringify(nv.witness.vkey)}], quorum: 1 };
    const ok = p.verifyBundle(enc.encode(${JSON.stringify(pv.bundleArtifact)}), ${JSON.stringify(pv.bundle)}, policy);
    const okBytes = p.verifyBundle(enc.encode(${JSON.stringify(pv.bundleArtifact)}), enc.encode(${JSON.stringify(pv.bundle)}), policy);
    const bad = p.verifyBundle(enc.encode(${JSON.stringify(pv.bundleArtifact)}), ${JSON.stringify(tampered)}, policy);
    const other = p.verifyBundle(enc.encode('artifact 4'), ${JSON.stringify(pv.bundle)}, policy);
    const ev = p.verifyEvidence(${JSON.stringify(JSON.stringify(pv.evidence['sameSize']))}, ${JSON.stringify(nv.log.vkey)});
    const notEv = p.verifyEvidence(${JSON.stringify(JSON.stringify(pv.notEvidence['honestPair']))}, ${JSON.stringify(nv.log.vkey)});
    return JSON.stringify({
      ok: [ok.ok, String(ok.index), String(ok.treeSize), ok.origin, ok.witnesses, ok.entry && ok.entry.name],
      okBytes: okBytes.ok,
      bad: [bad.ok, bad.step, bad.code],
      other: [other.ok, other.step, other.code],
      ev: [ev.ok, ev.kind],
      notEv: notEv.ok,
    });
  })()`;
  const out = JSON.parse(runInContext(script, context) as string);
  t.same(out.ok, [true, '3', '5', 'log.example.com/vitrine', ['witness.example.com/w1'], 'pkg:generic/demo@3'], 'the reference bundle verifies in the bare context');
  t.equal(out.okBytes, true, 'also given as bytes');
  t.same(out.bad, [false, 3, 'inclusion-failed'], 'a tampered index fails at step 3');
  t.same(out.other, [false, 1, 'digest-mismatch'], 'another artifact fails at step 1');
  t.same(out.ev, [true, 'same-size'], 'evidence verifies in the bare context');
  t.equal(out.notEv, false, 'non-evidence is rejected in the bare context');
});
