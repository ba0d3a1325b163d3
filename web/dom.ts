/**
 * What the page scripts share: building elements without innerHTML (every
 * value a log serves is text, never markup), fetching from the page's own
 * origin only, and the log key the visitor pinned in this browser.
 */
export type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page is missing #${id}`);
  return e as T;
}

export function replace(target: HTMLElement, ...children: Child[]): void {
  target.replaceChildren();
  for (const c of children) if (c !== null && c !== undefined && c !== false) target.append(c);
}

/** GET a same-origin path; a relative path can never leave the origin. */
async function get(path: string): Promise<Response> {
  if (!path.startsWith('/') || path.startsWith('//')) throw new Error(`not a same-origin path: ${path}`);
  const res = await fetch(path, { credentials: 'omit', cache: 'no-store' });
  if (!res.ok) {
    let detail = '';
    try {
      const body = (await res.json()) as { error?: string };
      detail = body.error ?? '';
    } catch {
      // not JSON
    }
    throw new HttpError(res.status, `${path}: HTTP ${res.status}${detail ? ` (${detail})` : ''}`);
  }
  return res;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await get(path)).json()) as T;
}

export async function getBytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await (await get(path)).arrayBuffer());
}

export async function getText(path: string): Promise<string> {
  return (await get(path)).text();
}

/** /v1/log */
export interface LogInfo {
  origin: string;
  verifierKey: string;
  size: number;
  rootHash: string;
  witnesses: string[];
}

/** /v1/entries/<i> and the rows of /v1/entries?...: the entry's JSON form and where it is. */
export interface EntryView {
  index: number;
  name: string;
  digest: string;
  leafHash: string;
  keyHash: string;
  /** Version 2: every signer by its one name (SSH/PEM `SHA256:…`, minisign key ID), the indexed one first. */
  signers?: string[];
  [field: string]: unknown;
}

const PIN = 'vitrine.pinnedLogKey';

/** The log vkey this visitor pinned in this browser, if any (localStorage, this origin only). */
export function pinnedKey(): string | undefined {
  try {
    return localStorage.getItem(PIN) ?? undefined;
  } catch {
    return undefined;
  }
}

export function setPinnedKey(vkey: string | undefined): void {
  try {
    if (vkey === undefined) localStorage.removeItem(PIN);
    else localStorage.setItem(PIN, vkey);
  } catch {
    // storage disabled: the key is used for this check only
  }
}

/** A table of label/value rows; values in <code> so long hashes wrap. */
export function definitionList(rows: Array<[string, Child]>): HTMLDListElement {
  const dl = el('dl');
  for (const [k, v] of rows) dl.append(el('dt', {}, k), el('dd', {}, v));
  return dl;
}

export function code(text: string): HTMLElement {
  return el('code', {}, text);
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A <time> for an RFC 3339 instant, shown to the second in UTC. */
export function when(iso: string): HTMLTimeElement {
  return el('time', { datetime: iso }, iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC'));
}
