/** How the CLI talks to people and scripts: tables on a TTY, JSON with --json, one-line errors. */
import { hintFor, isTendError, toTendError, type TendError } from '../core/errors.js';

/** Print data as JSON (for --json and scripts). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Print rows as an aligned text table. */
export function printTable(headers: string[], rows: (string | number | null | undefined)[][]): void {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(headers)}\n`);
  for (const r of cells) process.stdout.write(`${line(r)}\n`);
}

/** True when colour and progress bars may be used. */
export function isInteractive(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env['NO_COLOR'] && process.env['CI'] !== 'true';
}

/**
 * The hint to print: the error's own (none when it is '', as the message says its own fix), else
 * its code's, unless the message already says how to fix it after ' — '.
 */
function hintOf(err: TendError): string | undefined {
  if (err.hint === undefined && err.message.includes(' — ')) return undefined;
  return hintFor(err) || undefined;
}

/**
 * Print an error as one line on stderr — `error: …`, or `{"error","code"}` for `--json` — and give
 * the exit code: 1 for the user's mistakes, 2 for tend's.
 */
export function reportError(err: unknown, json = false): number {
  const e = toTendError(err);
  const hint = isTendError(err) ? hintOf(e) : undefined;
  const message = oneLine(`${e.message}${hint ? ` — ${hint}` : ''}`);
  process.stderr.write(
    json ? `${JSON.stringify({ error: message, code: e.code })}\n` : `error: ${message}\n`,
  );
  if (!e.isUserError && process.env['TEND_DEBUG'] && e.stack) process.stderr.write(`${e.stack}\n`);
  return e.isUserError ? 1 : 2;
}

/** Text on one line: a message that spans lines (a wrapped cause, a suggestion) joined with spaces. */
export function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, ' ');
}

/** Whether the command line asks for JSON (`--json` before any `--`). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/**
 * A reader that closes the pipe early (`tend runs list | head -1`) is not an error: the command ends
 * quietly with exit 0 instead of an EPIPE stack trace.
 */
export function endQuietlyOnBrokenPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}
