/**
 * Crash safety (ARCHITECTURE.md log invariant 1): a real `vitrine serve`
 * killed with SIGKILL at random moments under load, five times over, loses
 * nothing it acknowledged (crash-scenario.ts).
 */
import t from 'tap';
import { crashScenario } from './crash-scenario.js';

t.test('SIGKILL under load, restart, nothing acknowledged is lost', (t) => crashScenario(t, 5));
