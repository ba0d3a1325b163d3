/**
 * GET / on the monitor (--listen): the dashboard, read-only, from
 * GET /v1/status, refreshed every 10 seconds. Alerts are listed security
 * apart from operational, each with its id (what `vitrine monitor ack`
 * takes), who acknowledged it and when, and its delivery state.
 */
import type { DashboardStatus } from '../src/monitor/dashboard-status.js';
import { byId, code, el, getJson, messageOf, replace, when } from './dom.js';

function table(caption: string, head: string[], rows: Array<Array<Node | string>>, empty: string): HTMLElement {
  if (rows.length === 0) return el('p', {}, empty);
  const body = el('tbody');
  for (const r of rows) body.append(el('tr', {}, ...r.map((c) => el('td', {}, c))));
  return el('table', {}, el('caption', { class: 'visually-hidden' }, caption), el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col' }, h)))), body);
}

function render(s: DashboardStatus): void {
  replace(byId('updated'), 'As of ', when(s.now), ' (refreshes every 10 seconds).');
  replace(
    byId('logs'),
    table(
      'Logs audited',
      ['Log', 'Audited size', 'Last verified checkpoint', 'Catch-up'],
      s.logs.map((l) => [
        el('span', {}, el('strong', {}, l.origin), el('br'), code(l.url)),
        el('span', { 'data-origin': l.origin, class: 'audited-size' }, String(l.verifiedSize)),
        el('span', {}, l.verifiedCheckpoint ? el('details', {}, el('summary', {}, `size ${l.verifiedSize}, seen `, when(l.verifiedSeenAt)), el('pre', {}, code(l.verifiedCheckpoint))) : 'none yet'),
        el('span', {}, el('progress', { max: '1', value: String(l.progress), 'aria-label': `catch-up of ${l.origin}` }), ` ${(l.progress * 100).toFixed(1)}% (${l.position} of ${l.targetSize})`),
      ]),
      'No log followed.',
    ),
  );
  for (const cls of ['security', 'operational'] as const) {
    const alerts = s.alerts.filter((a) => a.class === cls);
    replace(
      byId(cls),
      table(
        `${cls} alerts`,
        ['When', 'Kind', 'Log', 'What', 'State'],
        alerts.map((a) => [
          when(a.at),
          el('span', { class: `badge ${cls}`, 'data-kind': a.kind }, a.kind),
          a.origin,
          a.message,
          el(
            'span',
            { class: 'alert-state', 'data-seq': String(a.seq), 'data-acknowledged': String(a.acknowledged !== undefined) },
            `alert ${a.seq}: `,
            a.acknowledged
              ? el('span', {}, `acknowledged by ${a.acknowledged.by} at `, when(a.acknowledged.at))
              : cls === 'security'
                ? el('strong', {}, 'not acknowledged: monitor --once exits 1 until someone runs vitrine monitor ack')
                : 'not acknowledged',
            ` (${a.state})`,
          ),
        ]),
        `No ${cls} alert.`,
      ),
    );
  }
  replace(
    byId('evidence'),
    table(
      'Evidence',
      ['Log', 'Checkpoint sizes', 'Observations', 'Document'],
      s.evidence.map((e) => [e.origin, `${e.sizes[0]} and ${e.sizes[1]}`, String(e.observed), el('a', { href: `/v1/evidence/${e.index}`, download: `evidence-${e.index}.json`, class: 'evidence-link' }, `evidence-${e.index}.json`)]),
      'No evidence held.',
    ),
  );
  replace(
    byId('peers'),
    table(
      'Peers',
      ['Peer', 'Last exchange', 'State'],
      s.peers.map((p) => [code(p.peer), p.lastExchange ? when(p.lastExchange) : 'none since start', p.downSince ? el('span', {}, 'unreachable since ', when(p.downSince)) : 'ok']),
      'No gossip peer configured.',
    ),
  );
  replace(
    byId('witness'),
    s.witness
      ? el('div', {}, el('p', {}, 'Cosigning as ', el('strong', {}, s.witness.name)), table('Witnessed logs', ['Log', 'Latest cosigned size'], s.witness.logs.map((l) => [l.origin, l.size ?? 'none yet']), 'No log.'))
      : el('p', {}, 'This monitor is not a witness (no --witness-key).'),
  );
}

async function refresh(): Promise<void> {
  try {
    render(await getJson<DashboardStatus>('/v1/status'));
  } catch (err) {
    byId('updated').textContent = `Could not read the monitor's status: ${messageOf(err)}`;
  }
}

void refresh();
setInterval(() => void refresh(), 10_000);
