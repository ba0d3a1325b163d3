// The smallest page that uses vitrine/browser: hash the artifact with
// WebCrypto, then run the five checks of a .tlog-proof (FORMATS.md §8)
// against a log key the page's owner pinned. Nothing is fetched.
// In an application: `import { verifyBundle } from 'vitrine/browser'`
// and let your bundler resolve it; here the built file is imported directly.
import { verifyBundle, BUNDLE_STEPS } from '../../dist/browser/vitrine.js';

const $ = (id) => document.getElementById(id);

$('form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const artifact = $('artifact').files[0];
  const proof = $('proof').files[0];
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await artifact.arrayBuffer()));
  let result;
  try {
    result = verifyBundle({ digest }, new Uint8Array(await proof.arrayBuffer()), { logKey: $('key').value.trim() });
  } catch (err) {
    result = { ok: false, step: 0, message: `the key is not a vkey: ${err.message}` }; // a policy mistake throws
  }
  $('result').dataset.verified = String(result.ok);
  $('result').textContent = result.ok
    ? `${artifact.name} is ${result.entry.name}, entry ${result.index} of ${result.origin}.`
    : `Not verified: step ${result.step} (${BUNDLE_STEPS[result.step - 1] ?? 'the bundle parses'}) failed: ${result.message}`;
});
