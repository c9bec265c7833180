/**
 * The one duration grammar of tend, wherever a duration is written as text: `tend bench --duration`
 * and `--warmup`, `tend serve --poll-interval` and `--shutdown-timeout`, monitoring windows (CLI,
 * HTTP, dashboard), and the alert rules' `window`, `for` and `evaluation_interval`.
 *
 *   duration := part+          e.g. 500ms, 1.5s, 2h, 2d, 1m30s, 1h30m
 *   part     := number unit    units largest first, each at most once, no spaces
 *   number   := digits [. digits] | . digits
 *   unit     := ms | s | m | h | d | w
 *
 * The value must come to whole milliseconds. Command-line flags also take a plain number as seconds
 * (`--duration 10`), as they always have.
 */
import { type TendError, errors } from './errors.js';

const UNIT_MS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
/** Largest first: the order the parts must come in. */
const UNITS = Object.keys(UNIT_MS) as Unit[];

const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d|w)/y;
const PLAIN_NUMBER = /^(?:\d+(?:\.\d+)?|\.\d+)$/;

/** What the error messages show of the grammar. */
export const DURATION_GRAMMAR =
  'write a number and a unit, or several largest first: 500ms, 1.5s, 2h, 2d, 1m30s (units ms, s, m, h, d, w)';

export interface DurationOptions {
  /** What the text is, leading the error message: '--duration', 'window'. Default: none. */
  what?: string;
  /** The shortest duration accepted, in ms (default 0). */
  minMs?: number;
  /** A plain number is a number of seconds (command-line flags). */
  plainSeconds?: boolean;
}

/** `number × unit` in exact arithmetic: `1.1s` is 1100 ms, not 1100.0000000000002. */
function partMs(number: string, unit: Unit): number {
  const [whole = '', fraction = ''] = number.split('.');
  return (Number(`${whole}${fraction}` || '0') * UNIT_MS[unit]) / 10 ** fraction.length;
}

function invalid(text: string, options: DurationOptions, why: string): TendError {
  const what = options.what === undefined ? '' : `${options.what} `;
  return errors.invalidArgument(`${what}'${text}' ${why}`);
}

/** Sum of the parts, or null when the text is not in the grammar. */
function sumParts(text: string): number | null {
  let total = 0;
  let at = 0;
  let lastUnit = -1;
  while (at < text.length) {
    PART.lastIndex = at;
    const match = PART.exec(text);
    if (match === null) return null;
    const unit = match[2] as Unit;
    const rank = UNITS.indexOf(unit);
    if (rank <= lastUnit) return null;
    lastUnit = rank;
    total += partMs(match[1] ?? '', unit);
    at = PART.lastIndex;
  }
  return at === 0 ? null : total;
}

/**
 * Milliseconds of a duration in tend's grammar (see the module header).
 * @throws TendError TEND_INVALID_ARGUMENT showing the grammar, or the minimum when it is too short
 * @example parseDuration('1m30s') // 90000
 * @example parseDuration('10', { what: '--duration', plainSeconds: true, minMs: 1 }) // 10000
 */
export function parseDuration(text: string, options: DurationOptions = {}): number {
  const trimmed = text.trim();
  const ms =
    options.plainSeconds === true && PLAIN_NUMBER.test(trimmed) ? partMs(trimmed, 's') : sumParts(trimmed);
  if (ms === null) {
    const plain = options.plainSeconds === true ? '; a plain number is seconds' : '';
    throw invalid(text, options, `is not a duration: ${DURATION_GRAMMAR}${plain}`);
  }
  if (!Number.isInteger(ms)) throw invalid(text, options, 'is not a whole number of milliseconds');
  if (!Number.isSafeInteger(ms)) throw invalid(text, options, 'is too long');
  const minMs = options.minMs ?? 0;
  if (ms < minMs)
    throw invalid(
      text,
      options,
      minMs === 1 ? 'must be longer than zero' : `is too short: at least ${minMs} ms`,
    );
  return ms;
}
