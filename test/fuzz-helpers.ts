/**
 * Shared pieces of the parser fuzz tests (test/note/fuzz.test.ts,
 * test/proof/fuzz.test.ts): strings built from a grammar's troublemakers,
 * small edits of valid inputs, and the rule every parser must keep, which
 * is to fail only with a typed VitrineError.
 */
import fc from 'fast-check';
import { VitrineError } from '../src/errors.js';

/** Runs a parser: true if it returns or throws a VitrineError; any other throw fails the property. */
export function typedOnly(fn: () => unknown): boolean {
  try {
    fn();
  } catch (err) {
    if (err instanceof VitrineError) return true;
    throw err;
  }
  return true;
}

export interface FuzzShape {
  /** Pieces that matter to the grammar under test, plus troublemakers. */
  special: readonly string[];
  /** How many pieces a `special` string joins, at most. */
  pieces: number;
  /** Longest plain and binary random strings. */
  plainLength: number;
  binaryLength: number;
  /** Most characters one edit deletes. */
  maxDelete: number;
}

type Edit = { at: number; del: number; ins: string };

function mutate(s: string, es: Edit[]): string {
  for (const e of es) {
    const at = s.length === 0 ? 0 : e.at % (s.length + 1);
    s = s.slice(0, at) + e.ins + s.slice(at + e.del);
  }
  return s;
}

/** Random strings for a grammar (`anyString`), and 1–4 small edits of valid inputs (`mutated`). */
export function fuzzStrings(shape: FuzzShape): { anyString: fc.Arbitrary<string>; mutated: (valid: string[]) => fc.Arbitrary<string> } {
  const special = fc.array(fc.oneof(fc.constantFrom(...shape.special), fc.string({ maxLength: 4 })), { maxLength: shape.pieces }).map((a) => a.join(''));
  const anyString = fc.oneof(fc.string({ maxLength: shape.plainLength }), fc.string({ unit: 'binary', maxLength: shape.binaryLength }), special);
  const edits = fc.array(fc.record({ at: fc.nat(), del: fc.nat({ max: shape.maxDelete }), ins: fc.oneof(fc.constantFrom('', ...shape.special), fc.string({ maxLength: 3 })) }), { minLength: 1, maxLength: 4 });
  const mutated = (valid: string[]) => fc.tuple(fc.constantFrom(...valid), edits).map(([s, es]) => mutate(s, es));
  return { anyString, mutated };
}

/**
 * Runs `fn` with V8's stack capture off. Tests that make every mutation of
 * a proof or signature fail throw hundreds of thousands of expected
 * VitrineErrors whose stacks nobody reads; capturing them cost 15-25 % of
 * those files' CPU. A failing property still reports its counterexample and
 * message (fast-check), and tap locates the failed assertion, since the
 * limit is restored before the assertion reports.
 */
export function withoutStacks<T>(fn: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
