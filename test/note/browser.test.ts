/**
 * src/note must stay browser-safe (ARCHITECTURE.md: the verifier runs in
 * browsers): bundle it with esbuild for the browser platform, check that no
 * Node built-in is reached, and run the bundle in a bare V8 context holding
 * only what browsers provide (TextEncoder, TextDecoder, crypto).
 */
import t from 'tap';
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { webcrypto } from 'node:crypto';
import { ROOT } from '../_root.js';

const root = ROOT;
const ref = JSON.parse(readFileSync(join(root, 'vectors/note/keys-and-checkpoint.json'), 'utf8'));

t.test('src/note bundles for the browser and runs without Node APIs', async (t) => {
  const result = await build({
    entryPoints: [join(root, 'src/note/index.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'vitrineNote',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: root,
  });
  const inputs = Object.keys(result.metafile.inputs);
  const foreign = inputs.filter((p) => !/^(src\/(note|crypto\/ed25519\.ts|encoding\.ts|errors\.ts)|merkle\/|node_modules\/@noble\/)/.test(p));
  t.same(foreign, [], `only note, encoding, errors, pure-JS Ed25519, merkle hashing and @noble are bundled (got ${inputs.join(', ')})`);
  t.notOk(inputs.some((p) => p.includes('ed25519-node')), 'the node:crypto backend is not reachable');
  const code = result.outputFiles[0]!.text;
  const context = createContext({ TextEncoder, TextDecoder, crypto: webcrypto });
  runInContext(code, context);
  const script = `(() => {
    const n = vitrineNote;
    const opened = n.openCheckpoint(${JSON.stringify(ref.signedCheckpoint)}, n.parseVerifier(${JSON.stringify(ref.log.vkey)}));
    const cos = n.verifyCosignatures(${JSON.stringify(ref.checkpointWithCosig)}, [n.parseCosignerVerifier(${JSON.stringify(ref.witness.vkey)})]);
    const fresh = n.generateSigner('browser.example/k');
    return [String(opened.size), String(cos[0].timestamp), n.formatVerifier(n.verifierFromSigner(fresh)).split('+')[0]];
  })()`;
  const [size, timestamp, name] = runInContext(script, context) as string[];
  t.equal(size, '8', 'the reference checkpoint opens in the bare context');
  t.equal(timestamp, '1700000000', 'the reference cosignature verifies in the bare context');
  t.equal(name, 'browser.example/k', 'key generation works with Web Crypto getRandomValues');
});
