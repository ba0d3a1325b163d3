/**
 * GET / on the log: the latest checkpoint (size, root, the log's signature
 * and the witnesses' cosignatures, checked here), the most recent entries,
 * and the search (?q= a name, a digest, a signer key in any format the log
 * knows — vkey, OpenSSH line, minisign public key, PEM — or its `SHA256:`
 * fingerprint or hex key hash, an index). A search typed into the box runs
 * in place: the address becomes /?q=… (so it can be shared, and Back
 * returns to the previous one) without loading the page or checking the
 * checkpoint again.
 */
import { b64decode, hexEncode, keyHash, openCheckpoint, parseCheckpoint, parseCosignerVerifier, parseNativeKey, verifyCosignatures, parseVerifier } from '../src/browser/index.js';
import { byId, code, definitionList, el, getJson, getText, messageOf, pinnedKey, replace, when, type EntryView, type LogInfo } from './dom.js';

const RECENT = 10;

async function main(): Promise<void> {
  const [info, note] = await Promise.all([getJson<LogInfo>('/v1/log'), getText('/checkpoint')]);
  showCheckpoint(info, note);
  const q = queryOf(location.search);
  const input = byId<HTMLInputElement>('q');
  if (q) {
    input.value = q;
    await search(q);
  }
  byId<HTMLFormElement>('search').addEventListener('submit', (e) => {
    const typed = input.value.trim();
    if (typed === '') return; // an empty search is the explorer itself: the form loads /?q=
    e.preventDefault();
    const url = new URL(location.href);
    url.searchParams.set('q', typed);
    history.pushState(null, '', url);
    void search(typed);
  });
  addEventListener('popstate', () => {
    const back = queryOf(location.search);
    input.value = back ?? '';
    if (back) void search(back);
    else clearResults();
  });
  await recent(parseCheckpoint(note.slice(0, note.indexOf('\n\n') + 1)).size);
}

function showCheckpoint(info: LogInfo, note: string): void {
  const cp = parseCheckpoint(note.slice(0, note.indexOf('\n\n') + 1));
  const pinned = pinnedKey();
  const key = pinned ?? info.verifierKey;
  let signature: string;
  try {
    openCheckpoint(note, parseVerifier(key));
    signature = `valid, checked in your browser with ${pinned ? 'the key you pinned' : "the key this log serves (pin one on the verify page)"}: ${parseVerifier(key).name}`;
  } catch (err) {
    signature = `INVALID: ${messageOf(err)}`;
  }
  const witnesses = el('ul', { id: 'witnesses' });
  let cosigned: Array<{ name: string; at: string }> = [];
  try {
    cosigned = verifyCosignatures(note, info.witnesses.map((w) => parseCosignerVerifier(w))).map((c) => ({
      name: c.witness.name,
      at: new Date(Number(c.timestamp) * 1000).toISOString(),
    }));
  } catch (err) {
    witnesses.append(el('li', {}, `a cosignature does not verify: ${messageOf(err)}`));
  }
  for (const c of cosigned) witnesses.append(el('li', {}, el('strong', {}, c.name), ` cosigned at `, when(c.at)));
  if (info.witnesses.length === 0) witnesses.append(el('li', {}, 'this log names no witnesses'));
  else if (cosigned.length === 0) witnesses.append(el('li', {}, 'no valid cosignature from the witnesses this log names'));
  replace(
    byId('checkpoint'),
    definitionList([
      ['Origin', cp.origin],
      ['Size', el('span', { id: 'size', 'data-size': String(cp.size) }, `${cp.size} entries`)],
      ['Root hash', code(hexEncode(cp.rootHash))],
      // A checkpoint carries no time of its own (c2sp.org/tlog-checkpoint); a cosignature does.
      ['Time', cosigned.length ? el('span', {}, 'cosigned at ', when(cosigned.map((c) => c.at).sort().at(-1)!)) : 'none: a checkpoint carries no time, and no witness cosigned this one'],
      ['Log signature', el('span', { id: 'log-signature' }, signature)],
      ['Witness cosignatures', witnesses],
    ]),
  );
}

async function recent(size: bigint): Promise<void> {
  const n = Number(size);
  const indexes = Array.from({ length: Math.min(RECENT, n) }, (_, i) => n - 1 - i);
  const rows = await Promise.all(indexes.map((i) => getJson<EntryView>(`/v1/entries/${i}`)));
  replace(byId('recent'), rows.length ? entryTable(rows, 'Most recent entries', true) : el('p', {}, 'The log is empty.'));
}

function queryOf(search: string): string | undefined {
  return new URLSearchParams(search).get('q')?.trim() || undefined;
}

let searches = 0;

function clearResults(): void {
  searches++; // a search still running shows nothing
  const out = byId('results');
  delete out.dataset['query'];
  replace(out);
}

/**
 * Runs a search: an index opens the entry; other queries list every match.
 * Only the latest search shows its results; #results then carries the
 * query in data-query.
 */
async function search(q: string): Promise<void> {
  const out = byId('results');
  const mine = ++searches;
  delete out.dataset['query'];
  replace(out, el('p', {}, 'Searching…'));
  let shown: HTMLElement;
  try {
    const found = await lookups(q);
    shown = found.length ? entryTable(found, `Results for “${q}”`) : el('p', { id: 'no-results' }, `No entry matches “${q}”.`);
  } catch (err) {
    shown = el('p', { role: 'alert' }, `Search failed: ${messageOf(err)}`);
  }
  if (mine !== searches) return; // a later search has started
  replace(out, shown);
  out.dataset['query'] = q;
}

async function lookups(q: string): Promise<EntryView[]> {
  if (/^(0|[1-9][0-9]{0,15})$/.test(q)) {
    try {
      return [await getJson<EntryView>(`/v1/entries/${q}`)];
    } catch {
      return [];
    }
  }
  const queries: string[] = [];
  if (/^[0-9a-fA-F]{64}$/.test(q)) {
    const hex = q.toLowerCase();
    queries.push(`digest=${hex}`, `key=${hex}`);
  } else if (/^[A-Za-z0-9+/]{43}=$/.test(q)) {
    queries.push(`key=${keyHash(b64decode(q, 'public key', 32))}`); // a raw public key
  } else if (/^SHA256:[A-Za-z0-9+/]{43}$/.test(q)) {
    queries.push(`key=${hexEncode(b64decode(`${q.slice(7)}=`, 'fingerprint', 32))}`); // an SSH or PEM key's one name
  } else {
    // A signer's public key in any format (vkey, OpenSSH, minisign, PEM), else a name.
    let key: string | undefined;
    try {
      key = hexEncode(parseNativeKey(q).keyHash);
    } catch {
      key = undefined;
    }
    queries.push(key === undefined ? `name=${encodeURIComponent(q)}` : `key=${key}`);
  }
  const pages = await Promise.all(queries.map((s) => getJson<{ entries: EntryView[] }>(`/v1/entries?${s}&limit=100`)));
  const seen = new Map<number, EntryView>();
  for (const p of pages) for (const e of p.entries) seen.set(e.index, e);
  return [...seen.values()].sort((a, b) => b.index - a.index);
}

function entryTable(rows: EntryView[], caption: string, hideCaption = false): HTMLTableElement {
  const body = el('tbody');
  for (const e of rows) {
    body.append(
      el(
        'tr',
        {},
        el('td', {}, el('a', { href: `/entry/${e.index}` }, String(e.index))),
        el('td', {}, e.name),
        el('td', { class: 'kind' }, typeof e['kind'] === 'string' ? e['kind'] : 'vitrine'),
        el('td', {}, code(e.digest.slice(0, 16) + '…')),
        el('td', {}, code(e.signers?.[0] ?? `${e.keyHash.slice(0, 16)}…`)),
      ),
    );
  }
  return el(
    'table',
    { class: 'entries' },
    el('caption', hideCaption ? { class: 'visually-hidden' } : {}, caption),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Index'), el('th', { scope: 'col' }, 'Name'), el('th', { scope: 'col' }, 'Kind'), el('th', { scope: 'col' }, 'Digest'), el('th', { scope: 'col' }, 'Signer'))),
    body,
  );
}

main().catch((err: unknown) => {
  replace(byId('checkpoint'), el('p', { role: 'alert' }, `Could not load the log: ${messageOf(err)}`));
});
