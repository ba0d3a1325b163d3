/** The step-by-step verdict shared by the entry and verify pages, like `vitrine verify` prints it. */
import { BUNDLE_STEPS, stepStates, type BundleResult } from '../src/browser/index.js';
import { el, replace } from './dom.js';

/**
 * Shows `result` in `target`: one verdict element carrying
 * data-verified="true|false" (what tests and people read alike), then the
 * five steps with their state, and the failing step's reason.
 */
export function showVerdict(target: HTMLElement, result: BundleResult, okText: string): void {
  const states = stepStates(result);
  const list = el('ol', { class: 'steps' });
  BUNDLE_STEPS.forEach((text, i) => {
    const state = states[i]!;
    list.append(el('li', { class: `step ${state.replace(' ', '-')}`, 'data-state': state }, el('span', { class: 'mark', 'aria-hidden': 'true' }, state === 'passed' ? '✔' : state === 'failed' ? '✘' : '·'), ` ${text}: ${state}`));
  });
  const verdict = el(
    'p',
    { id: 'verdict', class: result.ok ? 'verdict ok' : 'verdict bad', 'data-verified': String(result.ok), role: 'status' },
    result.ok ? okText : result.step === 0 ? `Not verified: ${result.message}` : `Not verified (step ${result.step}): ${result.message}`,
  );
  replace(target, verdict, list);
}

/** A verdict for a check that could not run at all (the log did not answer, a key did not parse). */
export function showFailure(target: HTMLElement, message: string): void {
  replace(target, el('p', { id: 'verdict', class: 'verdict bad', 'data-verified': 'false', role: 'status' }, `Not verified: ${message}`));
}
