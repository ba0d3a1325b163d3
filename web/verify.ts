/**
 * GET /verify: checks an artifact against its `.tlog-proof` entirely in
 * this browser (docs/formats.md §8, the five steps `vitrine verify` runs). The
 * artifact is hashed here with WebCrypto and never sent anywhere; the page
 * makes no request while checking. Any entry kind: when the entry's
 * signature covers another digest of the file (SSH with sha512, minisign's
 * BLAKE2b-512), that one is computed here too. Signer keys may be given in
 * their native formats (vkey, OpenSSH line, minisign public key, PEM).
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { decodeAnyEntry, describeEntry, entryArtifactHash, parseBundle, parseNativeKey, parseVerifier, verifyBundle, type BundlePolicy, type NativeKey } from '../src/browser/index.js';
import { byId, code, el, messageOf, pinnedKey, replace, setPinnedKey } from './dom.js';
import { showFailure, showVerdict } from './steps.js';

const form = byId<HTMLFormElement>('verify-form');
const artifactInput = byId<HTMLInputElement>('artifact');
const proofInput = byId<HTMLInputElement>('proof');
const logKeyInput = byId<HTMLTextAreaElement>('log-key');
const pinBox = byId<HTMLInputElement>('pin');
const result = byId('result');

function showPinned(): void {
  const pinned = pinnedKey();
  replace(byId('pinned'), pinned ? el('span', {}, 'Pinned in this browser: ', code(pinned)) : 'No log key is pinned in this browser.');
}

/**
 * The signer keys pasted: PEM blocks, then one key a line (a vkey, an
 * OpenSSH line, a minisign public key; a minisign file's "untrusted
 * comment:" line is skipped). Throws naming the key that does not parse.
 */
function signerKeys(text: string): NativeKey[] {
  const keys: NativeKey[] = [];
  const rest = text.replace(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g, (pem) => {
    keys.push(parseNativeKey(pem, `signer key ${keys.length + 1}`));
    return '\n';
  });
  for (const line of rest.split('\n')) {
    const l = line.trim();
    if (l === '' || l.startsWith('untrusted comment:')) continue;
    keys.push(parseNativeKey(l, `signer key ${keys.length + 1}`));
  }
  return keys;
}

/** The digests verifyBundle needs: the SHA-256, and the second digest the entry's signature covers, if any. */
async function digestsOf(bytes: ArrayBuffer, bundle: Uint8Array): Promise<{ digest: Uint8Array; sha512?: Uint8Array; blake2b512?: Uint8Array }> {
  const out: { digest: Uint8Array; sha512?: Uint8Array; blake2b512?: Uint8Array } = { digest: new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)) };
  let second;
  try {
    second = entryArtifactHash(decodeAnyEntry(parseBundle(bundle).entry));
  } catch {
    return out; // verifyBundle says what is wrong with the bundle or its entry.
  }
  if (second?.algorithm === 'sha512') out.sha512 = new Uint8Array(await crypto.subtle.digest('SHA-512', bytes));
  else if (second?.algorithm === 'blake2b-512') out.blake2b512 = blake2b(new Uint8Array(bytes), { dkLen: 64 });
  return out;
}

function lines(id: string): string[] {
  return byId<HTMLTextAreaElement>(id)
    .value.split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

// Dropping a file on a drop zone fills its file input.
for (const zone of document.querySelectorAll<HTMLElement>('[data-drop-for]')) {
  const input = byId<HTMLInputElement>(zone.dataset['dropFor']!);
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer?.files.length) input.files = e.dataTransfer.files;
  });
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  check().catch((err: unknown) => showFailure(result, messageOf(err)));
});

async function check(): Promise<void> {
  const artifact = artifactInput.files?.[0];
  const proof = proofInput.files?.[0];
  if (!artifact) return showFailure(result, 'choose the artifact file');
  if (!proof) return showFailure(result, 'choose its .tlog-proof file');
  const logKey = logKeyInput.value.trim();
  if (logKey === '') return showFailure(result, "paste the log's verifier key (vkey)");
  try {
    parseVerifier(logKey);
  } catch (err) {
    return showFailure(result, `the log key does not parse: ${messageOf(err)}`);
  }
  let keys: NativeKey[];
  try {
    keys = signerKeys(byId<HTMLTextAreaElement>('signers').value);
  } catch (err) {
    return showFailure(result, `a signer key does not parse: ${messageOf(err)}`);
  }
  if (pinBox.checked) setPinnedKey(logKey);
  showPinned();
  replace(result, el('p', {}, 'Hashing the artifact in this browser…'));
  const bundle = new Uint8Array(await proof.arrayBuffer());
  const digests = await digestsOf(await artifact.arrayBuffer(), bundle);
  const quorum = Number(byId<HTMLInputElement>('quorum').value || '0');
  const name = byId<HTMLInputElement>('name').value.trim();
  const policy: BundlePolicy = { logKey, signerKeys: keys, witnesses: lines('witnesses'), quorum };
  if (name !== '') policy.name = name;
  let verdict;
  try {
    verdict = verifyBundle(digests, bundle, policy);
  } catch (err) {
    return showFailure(result, `a key or the quorum is wrong: ${messageOf(err)}`);
  }
  let what = '';
  if (verdict.ok) {
    const d = describeEntry('kind' in verdict.entry ? { version: 2, entry: verdict.entry } : { version: 1, entry: verdict.entry });
    what = `, a ${d.kind} entry signed by ${d.signers.map((s) => s.name).join(', ')}`;
    if (d.attestation) what += `, attesting ${d.attestation.predicateType}${d.attestation.builderId === undefined ? '' : ` built by ${d.attestation.builderId}`}`;
  }
  showVerdict(
    result,
    verdict,
    verdict.ok
      ? `Verified in your browser: ${artifact.name} is “${verdict.entry.name}”, entry ${verdict.index} of ${verdict.origin} (tree size ${verdict.treeSize})${what}` +
          (verdict.witnesses.length ? `, cosigned by ${verdict.witnesses.join(', ')}.` : '.')
      : '',
  );
  result.append(el('p', {}, 'Log key used: ', code(logKey)));
}

logKeyInput.value = pinnedKey() ?? '';
byId('unpin').addEventListener('click', () => {
  setPinnedKey(undefined);
  showPinned();
});
showPinned();
