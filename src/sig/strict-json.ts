/**
 * A strict, bounded JSON reader (RFC 8259) for attestations. JSON.parse
 * silently keeps the last of duplicate member names, so two parsers can read
 * one envelope differently; this reader refuses duplicates, limits nesting
 * depth, and builds objects without prototypes so a member named
 * "__proto__" is an ordinary member. Literal tokens (strings, numbers) are
 * handed to JSON.parse one at a time, so their meaning is exactly the
 * standard one.
 */
import { MalformedError } from '../errors.js';

/** Deepest nesting of arrays and objects accepted. */
export const MAX_JSON_DEPTH = 64;

export function parseStrictJson(text: string, field: string): unknown {
  let pos = 0;
  const fail = (why: string): never => {
    throw new MalformedError(`${field}: invalid JSON at offset ${pos}: ${why}`);
  };
  const ws = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) pos++;
      else break;
    }
  };
  const stringToken = (): string => {
    const start = pos;
    pos++; // opening quote
    for (;;) {
      if (pos >= text.length) fail('unterminated string');
      const c = text.charCodeAt(pos);
      if (c === 0x22) break;
      if (c < 0x20) fail('control character in string');
      pos += c === 0x5c ? 2 : 1;
    }
    pos++;
    try {
      return JSON.parse(text.slice(start, pos)) as string;
    } catch {
      pos = start;
      return fail('bad escape in string');
    }
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_JSON_DEPTH) fail(`nested deeper than ${MAX_JSON_DEPTH}`);
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const obj: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      ws();
      if (text[pos] === '}') {
        pos++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') fail('expected a member name');
        const keyAt = pos;
        const key = stringToken();
        if (Object.prototype.hasOwnProperty.call(obj, key)) {
          pos = keyAt;
          fail(`duplicate member name "${key}"`);
        }
        ws();
        if (text[pos] !== ':') fail('expected ":"');
        pos++;
        obj[key] = value(depth + 1);
        ws();
        if (text[pos] === ',') pos++;
        else if (text[pos] === '}') {
          pos++;
          return obj;
        } else fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      pos++;
      const arr: unknown[] = [];
      ws();
      if (text[pos] === ']') {
        pos++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[pos] === ',') pos++;
        else if (text[pos] === ']') {
          pos++;
          return arr;
        } else fail('expected "," or "]"');
      }
    }
    if (c === '"') return stringToken();
    const m = /^(?:true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)/.exec(text.slice(pos, pos + 400));
    if (!m) return fail('unexpected character');
    pos += m[0].length;
    return JSON.parse(m[0]) as unknown;
  };
  const result = value(0);
  ws();
  if (pos !== text.length) fail('trailing data after the JSON value');
  return result;
}
