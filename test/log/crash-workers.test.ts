/**
 * Crash safety with `--workers 2` (issue 11 §2): the primary, which holds
 * the one sequencer, is killed with SIGKILL mid-batch under load spread
 * over two HTTP workers; its workers exit with it, the restart needs no
 * repair, and nothing acknowledged is lost (crash-scenario.ts).
 */
import t from 'tap';
import { crashScenario } from './crash-scenario.js';

t.test('SIGKILL of the primary of two workers under load, restart, nothing acknowledged is lost', (t) => crashScenario(t, 3, ['--workers', '2']));
