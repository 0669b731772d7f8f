/**
 * The header of a .npy file: a Python dict literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
 * See https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */

import { QuantkitError } from '../errors.js';

export interface NpyHeader {
  /** The dtype string, or the raw literal when it is not a string (structured dtypes are lists). */
  descr: string | PyValue;
  fortranOrder: boolean;
  shape: number[];
}

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

export function parseNpyHeader(text: string): NpyHeader {
  const value = new LiteralParser(text).parseAll();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new QuantkitError(`.npy header is not a dict: ${text.trim()}`);
  }
  const { descr, fortran_order: fortranOrder, shape } = value;
  if (descr === undefined || typeof fortranOrder !== 'boolean' || !Array.isArray(shape)) {
    throw new QuantkitError(`.npy header lacks descr, fortran_order or shape: ${text.trim()}`);
  }
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new QuantkitError(`.npy header has an invalid shape: ${text.trim()}`);
    }
  }
  return { descr, fortranOrder, shape: shape as number[] };
}

/** The header text numpy writes, without the padding. */
export function formatNpyHeader(descr: string, shape: readonly number[]): string {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
}

/** Recursive-descent parser for the few Python literals a header uses. */
class LiteralParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseAll(): PyValue {
    const value = this.value();
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail('unexpected text after the literal');
    return value;
  }

  private value(): PyValue {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '{') return this.dict();
    if (c === '(' || c === '[') return this.sequence(c === '(' ? ')' : ']');
    if (c === "'" || c === '"') return this.string();
    if (c !== undefined && /[-0-9]/.test(c)) return this.integer();
    for (const [word, v] of [
      ['True', true],
      ['False', false],
      ['None', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    return this.fail('unexpected character');
  }

  private dict(): { [key: string]: PyValue } {
    // No prototype, so a key such as '__proto__' in a hostile file is just a key.
    const out: { [key: string]: PyValue } = Object.create(null);
    this.pos++;
    for (;;) {
      this.skipSpace();
      if (this.eat('}')) return out;
      const key = this.value();
      if (typeof key !== 'string') this.fail('dict key is not a string');
      this.skipSpace();
      if (!this.eat(':')) this.fail("expected ':'");
      out[key as string] = this.value();
      this.skipSpace();
      if (!this.eat(',')) {
        this.skipSpace();
        if (!this.eat('}')) this.fail("expected ',' or '}'");
        return out;
      }
    }
  }

  private sequence(close: string): PyValue[] {
    const out: PyValue[] = [];
    this.pos++;
    for (;;) {
      this.skipSpace();
      if (this.eat(close)) return out;
      out.push(this.value());
      this.skipSpace();
      if (!this.eat(',')) {
        this.skipSpace();
        if (!this.eat(close)) this.fail(`expected ',' or '${close}'`);
        return out;
      }
    }
  }

  private string(): string {
    const quote = this.text[this.pos++];
    const end = this.text.indexOf(quote, this.pos);
    if (end < 0) this.fail('unterminated string');
    const s = this.text.slice(this.pos, end);
    this.pos = end + 1;
    return s;
  }

  private integer(): number {
    // Python 2 wrote long integers with an L suffix, e.g. (3L, 4L).
    const m = /^-?[0-9]+L?/.exec(this.text.slice(this.pos));
    if (!m) return this.fail('expected a number');
    this.pos += m[0].length;
    return Number.parseInt(m[0], 10);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private eat(c: string): boolean {
    if (this.text[this.pos] !== c) return false;
    this.pos++;
    return true;
  }

  private fail(why: string): never {
    throw new QuantkitError(`.npy header: ${why} at offset ${this.pos} in ${this.text.trim()}`);
  }
}
