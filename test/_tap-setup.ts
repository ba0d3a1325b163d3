/**
 * Loaded into every test process by .taprc (`node-arg: --import`), after
 * tap's own preloads. tap's @tapjs/processinfo hooks child_process so that
 * every process a test spawns (each `vitrine` command, server, monitor) also
 * loads its module-tracking hooks and writes a record to .tap/processinfo at
 * exit: for coverage across processes, which this suite turns off
 * (`disable-coverage` in .taprc). Measured on `node dist/cmd/vitrine.js
 * --help`, those hooks tripled the CPU a spawned command needs (0.35 s to
 * 1.1 s). This takes them out of children only; the test process itself is
 * unchanged. `npm test` (scripts/run-tests.mjs) does not load tap's tracker
 * at all, so it does not load this either; this is for `npx tap`.
 */
export {};

// process-on-spawn (used by @tapjs/processinfo) keeps its listeners in a
// global registry under this symbol; a listener re-adds the hooks to the
// NODE_OPTIONS of every spawn.
const registry = (globalThis as Record<symbol, unknown>)[Symbol.for('process-on-spawn@*:singletonId')] as { listeners?: unknown[] } | undefined;
if (registry?.listeners) registry.listeners.length = 0;

// The test process's own NODE_OPTIONS names the hooks too; children inherit it.
const options = process.env.NODE_OPTIONS;
if (options !== undefined) {
  const kept = options.split(/\s+/).filter((o) => o !== '' && !/@tapjs[\\/]processinfo/.test(o));
  if (kept.length === 0) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = kept.join(' ');
}
