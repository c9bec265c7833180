/**
 * The fuzzer's seeded source of choices: every hostile request is a pure function of the seed and
 * its index, so a failure found in a run of a million requests replays from two numbers.
 */

import { seededRandom } from '../helpers.js';

const UNICODE_SAMPLES = [
  'é',
  'ß',
  'Ω',
  '中文',
  '😀',
  '🧨',
  '\u202e',
  '\u200b',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\u0000',
  '\u0007',
  '\u001b[31m',
  'Ā'.repeat(3),
];

/** Strings that mean something special to a path, a shell, a parser or a database. */
const HOSTILE_STRINGS = [
  '',
  ' ',
  '.',
  '..',
  '../',
  '../../etc/passwd',
  '..%2f..%2f',
  '%2e%2e',
  '%2e%2e%2f',
  '%252e%252e',
  '%00',
  '\u0000',
  'a\u0000b',
  '/',
  '//',
  '\\',
  '..\\..\\',
  '~',
  '$HOME',
  '`id`',
  "'; DROP TABLE models; --",
  '" OR 1=1 --',
  '%s%s%s%n',
  '{{7*7}}',
  '${jndi:ldap://x}',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e999',
  'latest',
  'null',
  'undefined',
  'true',
  '\r\n',
  'a\r\nX-Injected: 1',
  '\t',
  'CON',
  'nul',
  'aux.onnx',
];

/** A deterministic random stream with the helpers a request generator needs. */
export class FuzzRandom {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  /** A fresh stream for one case: (seed, index) → the same case every time. */
  static forCase(seed: number, index: number): FuzzRandom {
    return new FuzzRandom((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index, 0xc2b2ae35)) >>> 0);
  }

  float(): number {
    return this.next();
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Pick by weight: `[[weight, value], ...]`. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((sum, [w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [w, v] of items) {
      r -= w;
      if (r < 0) return v;
    }
    return (items[items.length - 1] as readonly [number, T])[1];
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }

  /** A short run of printable ASCII. */
  ascii(maxLength: number): string {
    const n = this.int(0, maxLength);
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.int(0x20, 0x7e));
    return s;
  }

  /** A string a parser, a path or a database might choke on. */
  hostileString(): string {
    switch (this.int(0, 6)) {
      case 0:
        return this.pick(HOSTILE_STRINGS);
      case 1:
        return this.pick(UNICODE_SAMPLES).repeat(this.int(1, 4));
      case 2:
        return 'x'.repeat(this.pick([64, 65, 255, 256, 1024, 5000]));
      case 3:
        return this.ascii(24);
      case 4:
        return `${this.pick(HOSTILE_STRINGS)}${this.pick(UNICODE_SAMPLES)}${this.ascii(6)}`;
      case 5: {
        let s = '';
        for (let i = this.int(1, 12); i > 0; i--) s += String.fromCharCode(this.int(0, 0xffff));
        return s;
      }
      default:
        return (
          this.pick(['digits', 'mixed', 'lookup', 'victim', 'pixels', 'ids', 'FP32', 'BYTES', 'champion']) +
          this.pick(['', ' ', '\u0000', '/', '..', '😀', 'X'])
        );
    }
  }

  /** A number at an edge: huge, tiny, negative, fractional, unsafe. */
  edgeNumber(): number {
    return this.pick([
      0,
      -0,
      1,
      -1,
      0.5,
      -0.5,
      1.5,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32,
      2 ** 53,
      2 ** 53 + 2,
      -(2 ** 53),
      2 ** 63,
      1e9,
      1e18,
      1e300,
      -1e300,
      Number.MIN_VALUE,
      Number.MAX_VALUE,
      65504,
      65520,
      255,
      256,
      -129,
      127,
      128,
      3.4028235e38,
      3.5e38,
      1e-45,
      1e-46,
    ]);
  }
}

/**
 * Percent-encode every byte of the string's UTF-8 outside the unreserved set (a lone surrogate,
 * which encodeURIComponent refuses, goes as the replacement character's bytes).
 */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
