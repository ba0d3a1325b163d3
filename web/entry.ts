/**
 * GET /entry/<index> on the log: one entry, read from its entry bundle
 * (c2sp.org/tlog-tiles) and described from its decoded form (every field
 * the decoder returns, so every entry kind shows), and its inclusion in the
 * log's current checkpoint, checked here in the browser: the leaf hash is
 * computed here, the proof is asked for that leaf hash, and the checkpoint's
 * signature is checked with the pinned key or, failing that, the key the log
 * serves (which the page says).
 */
import { checkServedEntry, decodeAnyEntry, describeEntry, entryBundleOf, entryFromBundle, entryLeafHash, hexEncode, b64decode, parseCheckpoint, parseVerifier } from '../src/browser/index.js';
import { byId, code, definitionList, el, type Child, getBytes, getJson, getText, messageOf, pinnedKey, replace, type LogInfo } from './dom.js';
import { showFailure, showVerdict } from './steps.js';

async function main(): Promise<void> {
  const m = /^\/entry\/(0|[1-9][0-9]{0,15})$/.exec(location.pathname);
  if (!m) throw new Error('this address names no entry index');
  const index = Number(m[1]);
  document.title = `Entry ${index} · Vitrine`;
  byId('title').textContent = `Entry ${index}`;
  const [info, note] = await Promise.all([getJson<LogInfo>('/v1/log'), getText('/checkpoint')]);
  const size = parseCheckpoint(note.slice(0, note.indexOf('\n\n') + 1)).size;
  const verdict = byId('inclusion');
  if (BigInt(index) >= size) {
    replace(byId('entry'), el('p', {}, `The log's published checkpoint has ${size} entries.`));
    showFailure(verdict, `entry ${index} is not in the log's published checkpoint (size ${size})`);
    return;
  }
  // The entry's bytes exactly as logged, from its entry bundle: any entry kind decodes here.
  const where = entryBundleOf(index, size);
  const bytes = entryFromBundle(await getBytes(where.path), where.width, index);
  try {
    const d = describeEntry(decodeAnyEntry(bytes));
    const signers = el('ul', { id: 'signers' });
    for (const s of d.signers) signers.append(el('li', {}, code(s.name), ` (${s.algorithm}, ${s.format} key)`));
    const rows: Array<[string, Child]> = [
      ['Kind', el('span', { id: 'kind' }, d.kind)],
      ['Name', el('span', { id: 'name' }, d.name)],
      ['Artifact SHA-256', el('code', { id: 'digest' }, d.digest)],
      ['Signature covers', el('span', {}, `${d.signed.what}: `, el('code', { id: 'signed', 'data-algorithm': d.signed.algorithm }, d.signed.value))],
      [d.signers.length === 1 ? 'Signer' : 'Signers', signers],
    ];
    if (d.attestation) {
      const subjects = el('ul', { id: 'subjects' });
      for (const s of d.attestation.subjects) subjects.append(el('li', {}, el('span', { class: 'subject-name' }, s.name), ' ', code(s.digests)));
      rows.push(['Predicate type', el('code', { id: 'predicate-type' }, d.attestation.predicateType)]);
      if (d.attestation.builderId !== undefined) rows.push(['Builder', el('code', { id: 'builder' }, d.attestation.builderId)]);
      rows.push(['Attestation subjects', subjects]);
    }
    const annotations = d.rows.filter((r) => r.field.startsWith('annotations.'));
    for (const r of annotations) rows.push([r.field, code(r.value)]);
    const fields = d.rows.filter((r) => r.field !== 'name' && !r.field.startsWith('annotations.'));
    replace(
      byId('entry'),
      definitionList(rows),
      el('details', { id: 'fields' }, el('summary', {}, 'Every field as logged'), definitionList(fields.map((r): [string, Child] => [r.field, code(r.value)]))),
    );
  } catch (err) {
    // The check below fails at step 1 for the same reason.
    replace(byId('entry'), el('p', { role: 'alert' }, `The logged bytes are not an entry this page can decode: ${messageOf(err)}`));
  }

  const pinned = pinnedKey();
  const logKey = pinned ?? info.verifierKey;
  byId('key').replaceChildren(
    pinned ? 'Checked with the log key you pinned in this browser: ' : 'Checked with the key this log serves; the log cannot vouch for itself, so pin the key you expect on the verify page: ',
    code(logKey),
  );
  const leaf = hexEncode(entryLeafHash(bytes));
  const answer = await getJson<{ index: number; size: number; proof: string[] }>(`/v1/proof/inclusion?leaf=${leaf}&size=${size}`);
  if (answer.index !== index) {
    showFailure(verdict, `the log places this entry at index ${answer.index}, not ${index}`);
    return;
  }
  const result = checkServedEntry(
    { entry: bytes, index, proof: answer.proof.map((h) => b64decode(h, 'proof hash', 32)), checkpoint: note },
    { logKey, witnesses: info.witnesses },
  );
  showVerdict(verdict, result, `Verified in your browser: entry ${index} is in the log's checkpoint of size ${size}, signed by ${parseVerifier(logKey).name}.`);
}

main().catch((err: unknown) => showFailure(byId('inclusion'), messageOf(err)));
