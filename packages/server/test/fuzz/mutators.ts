/**
 * Shared generators and mutators of the fuzz suite (fast-check arbitraries). Two kinds of input come out of here:
 *
 * - generated values: strings, numbers and JSON values biased towards what breaks parsers (empty, NUL, lone surrogates,
 *   huge numbers, prototype keys, percent escapes, very long text);
 * - mutations of valid samples: a list of small edits — described as plain data, so a failing case prints (and shrinks)
 *   as the edits that made it — applied to a valid text (by character or by line) or to valid bytes.
 *
 * Mutating valid samples reaches much deeper than random input: most of a mutated SDP offer is still an SDP offer, so
 * it passes the cheap checks and lands in the engine.
 */
import fc from 'fast-check';

/** Strings that parsers and validators commonly mishandle. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'a\udc00b',
  '\ufeff',
  '\u202e',
  '\r\n',
  '\n',
  '\r',
  '\t',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '%',
  '%00',
  '%zz',
  '%C0%80',
  '%ff',
  '%E2%80%AE',
  '+',
  '&',
  '=',
  ';',
  '#',
  '?',
  '/',
  '..',
  '../../etc/passwd',
  '\\',
  '"',
  "'",
  '<script>',
  '${x}',
  '-1',
  '0',
  '-0',
  '1e309',
  '-1e309',
  'NaN',
  'Infinity',
  '0x10',
  '1.5',
  '9007199254740993',
  '99999999999999999999',
  '2020-02-30T00:00:00Z',
  '1970-01-01T00:00:00.000+00:00',
  '9999-12-31T23:59:59Z',
  'é',
  '日本語',
  '😀',
  'a'.repeat(257),
  'a'.repeat(4096),
];

/** Numbers at the edges of every integer width and of the doubles. */
export const NASTY_NUMBERS: readonly number[] = [
  0,
  -0,
  1,
  -1,
  0.5,
  127,
  128,
  255,
  256,
  65535,
  65536,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53 + 2,
  -(2 ** 53),
  1e21,
  1e308,
  -1e308,
  5e-324,
  Number.MAX_VALUE,
];

/** Text of number-like tokens, for places that parse digits out of text (SDP payload types, ports, sizes). */
export const NASTY_NUMBER_TEXT: readonly string[] = [
  '0',
  '-1',
  '00',
  '1.5',
  '1e3',
  '127',
  '128',
  '255',
  '256',
  '65535',
  '65536',
  '4294967295',
  '4294967296',
  '9007199254740993',
  '99999999999999999999999999',
  '',
  'NaN',
  'x',
];

/** A string biased towards trouble: nasty constants, short full-Unicode text, ASCII, or a long run. */
export const weirdString = (maxLength = 64): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
    { weight: 3, arbitrary: fc.string({ maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength }) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', '\u0000', '%', 'é', '9'), fc.integer({ min: 100, max: 20_000 })).map(([c, n]) => c.repeat(n)) },
  );

/** A number biased towards edges (JSON-representable: no NaN or Infinity). */
export const weirdNumber = (): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(...NASTY_NUMBERS), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.nat(300));

/** Any JSON value, with weird keys and strings now and then. */
export const weirdJson = (): fc.Arbitrary<unknown> =>
  fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      weirdNumber(),
      weirdString(32),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'type', 'id', ''), fc.string({ maxLength: 8 })), tie('value'), { maxKeys: 4 }),
    ),
  })).value;

/** Either `valid` or, one time in `1 + validWeight`, something weird of any JSON type. */
export const mostly = <T>(valid: fc.Arbitrary<T>, validWeight = 4): fc.Arbitrary<T | unknown> =>
  fc.oneof({ weight: validWeight, arbitrary: valid }, { weight: 1, arbitrary: weirdJson() });

/** One edit of a text: positions are taken modulo the text's length when applied. */
export type TextEdit =
  | { op: 'delete'; at: number; len: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'replace'; at: number; len: number; text: string }
  | { op: 'duplicate'; at: number; len: number; times: number }
  | { op: 'truncate'; at: number };

export const textEdit = (insertions: fc.Arbitrary<string> = weirdString(16)): fc.Arbitrary<TextEdit> =>
  fc.oneof(
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: insertions }),
    fc.record({ op: fc.constant('replace' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }), text: insertions }),
    fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }), times: fc.integer({ min: 1, max: 50 }) }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  );

export function applyTextEdit(text: string, e: TextEdit): string {
  const at = text.length === 0 ? 0 : e.at % (text.length + 1);
  switch (e.op) {
    case 'delete':
      return text.slice(0, at) + text.slice(at + e.len);
    case 'insert':
      return text.slice(0, at) + e.text + text.slice(at);
    case 'replace':
      return text.slice(0, at) + e.text + text.slice(at + e.len);
    case 'duplicate':
      return text.slice(0, at) + text.slice(at, at + e.len).repeat(e.times + 1) + text.slice(at + e.len);
    case 'truncate':
      return text.slice(0, at);
  }
}

/** `sample` (one of `samples`) with 1–`maxEdits` character edits. */
export const mutatedText = (samples: readonly string[], insertions?: fc.Arbitrary<string>, maxEdits = 4): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom(...samples), fc.array(textEdit(insertions), { minLength: 1, maxLength: maxEdits }))
    .map(([s, edits]) => edits.reduce(applyTextEdit, s));

/** One edit of a line-oriented text (SDP, sdpfrag, keys files); line positions are taken modulo the line count. */
export type LineEdit =
  | { op: 'drop'; at: number }
  | { op: 'duplicate'; at: number; times: number }
  | { op: 'swap'; a: number; b: number }
  | { op: 'insert'; at: number; line: string }
  | { op: 'truncateLine'; at: number; keep: number }
  | { op: 'numbers'; at: number; value: string }
  | { op: 'value'; at: number; value: string }
  | { op: 'repeatBlock'; from: number; len: number; times: number }
  | { op: 'cut'; at: number };

export const lineEdit = (lines: fc.Arbitrary<string>): fc.Arbitrary<LineEdit> =>
  fc.oneof(
    fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), times: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ op: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), line: lines }),
    fc.record({ op: fc.constant('truncateLine' as const), at: fc.nat(), keep: fc.nat(40) }),
    fc.record({ op: fc.constant('numbers' as const), at: fc.nat(), value: fc.constantFrom(...NASTY_NUMBER_TEXT) }),
    fc.record({ op: fc.constant('value' as const), at: fc.nat(), value: weirdString(24) }),
    fc.record({ op: fc.constant('repeatBlock' as const), from: fc.nat(), len: fc.integer({ min: 1, max: 20 }), times: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  );

export function applyLineEdit(lines: string[], e: LineEdit): string[] {
  const n = lines.length;
  const at = (i: number): number => (n === 0 ? 0 : i % n);
  const out = [...lines];
  switch (e.op) {
    case 'drop':
      out.splice(at(e.at), 1);
      return out;
    case 'duplicate':
      out.splice(at(e.at), 0, ...Array<string>(e.times).fill(out[at(e.at)] ?? ''));
      return out;
    case 'swap': {
      const [a, b] = [at(e.a), at(e.b)];
      [out[a], out[b]] = [out[b] ?? '', out[a] ?? ''];
      return out;
    }
    case 'insert':
      out.splice(n === 0 ? 0 : e.at % (n + 1), 0, e.line);
      return out;
    case 'truncateLine':
      out[at(e.at)] = (out[at(e.at)] ?? '').slice(0, e.keep);
      return out;
    case 'numbers':
      // Every number of the line becomes `value` (payload types, ports, sizes, priorities).
      out[at(e.at)] = (out[at(e.at)] ?? '').replace(/\d+/g, e.value);
      return out;
    case 'value': {
      // What follows the line's first ':' (or '='), the attribute's value, becomes `value`.
      const line = out[at(e.at)] ?? '';
      const i = line.indexOf(':') > 0 ? line.indexOf(':') : line.indexOf('=');
      out[at(e.at)] = i >= 0 ? line.slice(0, i + 1) + e.value : e.value;
      return out;
    }
    case 'repeatBlock': {
      const from = at(e.from);
      const block = out.slice(from, from + e.len);
      out.splice(from + block.length, 0, ...Array.from({ length: e.times }, () => block).flat());
      return out;
    }
    case 'cut':
      return out.slice(0, at(e.at));
  }
}

/** Line endings a text may be rejoined with (CRLF as SDP wants, bare LF, bare CR, mixed). */
export type Eol = '\r\n' | '\n' | '\r' | 'mixed';
export const eol = (): fc.Arbitrary<Eol> =>
  fc.oneof({ weight: 6, arbitrary: fc.constant('\r\n' as const) }, fc.constantFrom('\n' as const, '\r' as const, 'mixed' as const));

export function joinLines(lines: readonly string[], end: Eol): string {
  if (end !== 'mixed') return lines.map((l) => l + end).join('');
  return lines.map((l, i) => l + (i % 2 === 0 ? '\r\n' : '\n')).join('');
}

/**
 * One of `samples`, split into lines, with 1–`maxEdits` line edits (inserting lines from `lines`), rejoined with some
 * line ending. With `trailing`, the text sometimes loses its last line ending.
 */
export const mutatedLines = (samples: readonly string[], lines: fc.Arbitrary<string>, maxEdits = 5): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom(...samples), fc.array(lineEdit(lines), { minLength: 1, maxLength: maxEdits }), eol(), fc.boolean())
    .map(([s, edits, end, dropLastEol]) => {
      const text = joinLines(
        edits.reduce(
          applyLineEdit,
          s.split(/\r?\n/).filter((l) => l.length > 0),
        ),
        end,
      );
      return dropLastEol ? text.replace(/(\r\n|\n|\r)$/, '') : text;
    });

/** One edit of a byte string; offsets are taken modulo its length. */
export type ByteEdit =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'u16'; at: number; value: number }
  | { op: 'u32'; at: number; value: number }
  | { op: 'f64'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; len: number }
  | { op: 'truncate'; at: number };

export const byteEdit = (): fc.Arbitrary<ByteEdit> =>
  fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x53, 0x4c, 0xd8) }),
    fc.record({ op: fc.constant('u16' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 2, 0x7fff, 0x8000, 0xffff) }),
    fc.record({ op: fc.constant('u32' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff) }),
    fc.record({ op: fc.constant('f64' as const), at: fc.nat(), value: fc.constantFrom(NaN, Infinity, -Infinity, -0, 1e308, -1, 2 ** 53) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 32 }) }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  );

export function applyByteEdit(bytes: Uint8Array, e: ByteEdit): Uint8Array {
  const at = bytes.length === 0 ? 0 : e.at % bytes.length;
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  switch (e.op) {
    case 'flip':
      if (out.length > 0) out[at] = out[at]! ^ (1 << e.bit);
      return out;
    case 'set':
      if (out.length > 0) out[at] = e.value;
      return out;
    case 'u16':
      if (at + 2 <= out.length) view.setUint16(at, e.value);
      return out;
    case 'u32':
      if (at + 4 <= out.length) view.setUint32(at, e.value);
      return out;
    case 'f64':
      if (at + 8 <= out.length) view.setFloat64(at, e.value);
      return out;
    case 'insert':
      return concat(bytes.subarray(0, at), e.bytes, bytes.subarray(at));
    case 'delete':
      return concat(bytes.subarray(0, at), bytes.subarray(at + e.len));
    case 'truncate':
      return bytes.slice(0, at);
  }
}

/** One of `samples` with 1–`maxEdits` byte edits. */
export const mutatedBytes = (samples: readonly Uint8Array[], maxEdits = 4): fc.Arbitrary<Uint8Array> =>
  fc.tuple(fc.constantFrom(...samples), fc.array(byteEdit(), { minLength: 1, maxLength: maxEdits })).map(([s, edits]) => edits.reduce(applyByteEdit, s));

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Deterministic shuffle of `items` by `keys` (fast-check shrinks the keys, not the order). */
export function shuffleBy<T>(items: readonly T[], keys: readonly number[]): T[] {
  return items
    .map((item, i) => ({ item, k: keys[i % Math.max(1, keys.length)] ?? 0, i }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.item);
}
