/**
 * GET /verify: checks an artifact against its `.tlog-proof` entirely in
 * this browser (docs/formats.md §8, the five steps `vitrine verify` runs). The
 * artifact is hashed here with WebCrypto and never sent anywhere; the page
 * makes no request while checking.
 */
import { parseVerifier, verifyBundle, type BundlePolicy } from '../src/browser/index.js';
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
  if (pinBox.checked) setPinnedKey(logKey);
  showPinned();
  replace(result, el('p', {}, 'Hashing the artifact in this browser…'));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await artifact.arrayBuffer()));
  const bundle = new Uint8Array(await proof.arrayBuffer());
  const quorum = Number(byId<HTMLInputElement>('quorum').value || '0');
  const name = byId<HTMLInputElement>('name').value.trim();
  const policy: BundlePolicy = { logKey, signers: lines('signers'), witnesses: lines('witnesses'), quorum };
  if (name !== '') policy.name = name;
  let verdict;
  try {
    verdict = verifyBundle({ digest }, bundle, policy);
  } catch (err) {
    return showFailure(result, `a key or the quorum is wrong: ${messageOf(err)}`);
  }
  showVerdict(
    result,
    verdict,
    verdict.ok
      ? `Verified in your browser: ${artifact.name} is “${verdict.entry.name}”, entry ${verdict.index} of ${verdict.origin} (tree size ${verdict.treeSize})` +
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
