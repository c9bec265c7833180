/**
 * `tend demo traffic [--drift] [--url URL] [--requests N]`: play clients of the running demo. Rows
 * of the digits data set go to the digits model with request ids, and their true labels follow as
 * feedback, so the dashboard fills with quality and drift. With --drift the second half brightens
 * a block of pixels in the middle of the image and sends wrong labels: drift and an accuracy drop
 * a newcomer can watch happen.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type TendError, errors } from '../../core/errors.js';
import { DEMO_MODEL, readFeatureRows } from '../../engine/index.js';
import { isInteractive } from '../output.js';

export interface DemoTrafficOptions {
  url: string;
  drift?: boolean;
  requests: number;
  rows: number;
  concurrency: number;
}

/** The pixel columns --drift shifts: rows 2 and 3, columns 2 to 5 of the 8×8 image (where strokes are). */
export const DRIFT_PIXELS: readonly number[] = [18, 19, 20, 21, 26, 27, 28, 29];

let shuffled: number[] | undefined;

/**
 * The data set's rows in a fixed shuffled order. digits.csv is ordered by writer: sent in file
 * order, any window of traffic would come from a few writers and differ from the training data
 * (drift that is not there). Shuffled, clean traffic looks like the training split.
 */
function shuffledRows(n: number): number[] {
  if (shuffled?.length === n) return shuffled;
  const order = Array.from({ length: n }, (_, i) => i);
  let seed = 20261125;
  for (let i = n - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  shuffled = order;
  return order;
}
const DRIFT_SHIFT = 8;
const PIXEL_MAX = 16;
const PIXELS = 64;
const REQUEST_TIMEOUT_MS = 30_000;

// The engine does not export the data set's path; computed as src/train/digits.ts does (same depth under dist/).
function digitsCsvPath(): string {
  return fileURLToPath(new URL('../../../assets/datasets/digits.csv', import.meta.url));
}

interface DigitRows {
  columns: string[];
  rows: number;
  pixels(row: number): number[];
  digit(row: number): number;
}

function loadDigits(): DigitRows {
  const table = readFeatureRows(readFileSync(digitsCsvPath(), 'utf8'), 'digits.csv');
  const width = table.columns.length;
  return {
    columns: table.columns.slice(0, PIXELS),
    rows: table.rows,
    pixels: (r) => Array.from(table.values.subarray(r * width, r * width + PIXELS)),
    digit: (r) => table.values[r * width + PIXELS] as number,
  };
}

/** Why a fetch failed, as its cause says (ECONNREFUSED, ...), else its message. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

function unreachable(url: string, err: unknown): TendError {
  return errors.invalidArgument(
    `no tend server answers at ${url} (${networkReason(err)}) — start the demo with \`tend demo\`, or give its address with --url`,
  );
}

async function call(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: res.status, body: { error: text.slice(0, 200) } };
  }
}

function baseUrl(raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw errors.invalidArgument(`--url '${raw}' is not a URL (e.g. http://127.0.0.1:8000)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw errors.invalidArgument(`--url '${raw}' must be an http:// or https:// URL`);
  return parsed.href.replace(/\/+$/, '');
}

/** Check that the server is up and serves the demo model; the name of its input. */
async function demoInput(base: string): Promise<string> {
  let meta: { status: number; body: Record<string, unknown> };
  try {
    meta = await call(`${base}/v2/models/${DEMO_MODEL}`);
  } catch (err) {
    throw unreachable(base, err);
  }
  if (meta.status === 404)
    throw errors.notFound(
      `the server at ${base} does not serve model '${DEMO_MODEL}' — start the demo with \`tend demo\` (it trains and serves it)`,
    );
  if (meta.status !== 200)
    throw errors.unavailable(
      `${base}/v2/models/${DEMO_MODEL} answered ${meta.status}: ${String(meta.body['error'] ?? '')}`,
    );
  const inputs = meta.body['inputs'] as { name: string; datatype: string; shape: number[] }[] | undefined;
  const input = inputs?.length === 1 ? inputs[0] : undefined;
  if (!input || input.datatype !== 'FP32' || input.shape[input.shape.length - 1] !== PIXELS) {
    throw errors.invalidArgument(
      `model '${DEMO_MODEL}' at ${base} is not the demo's digits model (one FP32 input of ${PIXELS} pixels): ${JSON.stringify(inputs ?? [])}`,
    );
  }
  return input.name;
}

interface Tally {
  sent: number;
  failed: number;
  rows: number;
  correct: number;
  accepted: number;
  firstError: string | null;
  /** Why the run stopped early (the server went away, or refuses every request like this one), else null. */
  stopped: TendError | null;
}

interface Phase {
  name: string;
  first: number;
  count: number;
  drift: boolean;
}

/** Run requests first..first+count-1 with `concurrency` clients; each infers, then sends its labels. */
async function runPhase(
  base: string,
  input: string,
  digits: DigitRows,
  phase: Phase,
  opts: DemoTrafficOptions,
  runId: string,
  tally: Tally,
  onDone: () => void,
): Promise<void> {
  let next = phase.first;
  const end = phase.first + phase.count;
  const fail = (message: string) => {
    tally.failed++;
    tally.firstError ??= message;
  };
  const one = async (i: number): Promise<void> => {
    const order = shuffledRows(digits.rows);
    const rows = Array.from(
      { length: opts.rows },
      (_, j) => order[(i * opts.rows + j) % digits.rows] as number,
    );
    const data = rows.flatMap((r) => {
      const p = digits.pixels(r);
      if (phase.drift)
        for (const c of DRIFT_PIXELS) p[c] = Math.min(PIXEL_MAX, (p[c] as number) + DRIFT_SHIFT);
      return p;
    });
    const labels = rows.map((r) => (phase.drift ? (digits.digit(r) + 1) % 10 : digits.digit(r)));
    const id = `traffic-${runId}-${i}`;
    tally.sent++;
    const infer = await call(`${base}/v2/models/${DEMO_MODEL}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id,
        inputs: [{ name: input, datatype: 'FP32', shape: [rows.length, PIXELS], data }],
      }),
    });
    if (infer.status !== 200) {
      const error = `infer answered ${infer.status}: ${String(infer.body['error'] ?? '')}`;
      // A refused request (e.g. more rows than the model's largest batch) is refused every time.
      if (infer.status === 400)
        tally.stopped ??= errors.invalidArgument(`the server refused the traffic: ${error}`);
      return fail(error);
    }
    const outputs = (infer.body['outputs'] ?? []) as { name: string; data: unknown[] }[];
    const predicted = outputs.find((o) => o.name === 'label')?.data;
    tally.rows += rows.length;
    labels.forEach((label, row) => {
      if (predicted?.[row] === label) tally.correct++;
    });
    const feedback = await call(`${base}/v2/models/${DEMO_MODEL}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ feedback: labels.map((label, row) => ({ id, row, label })) }),
    });
    if (feedback.status !== 200)
      return fail(`feedback answered ${feedback.status}: ${String(feedback.body['error'] ?? '')}`);
    tally.accepted += Number(feedback.body['accepted'] ?? 0);
  };
  const client = async (): Promise<void> => {
    while (next < end && tally.stopped === null) {
      const i = next++;
      try {
        await one(i);
      } catch (err) {
        // No answer at all (not an error status): the server went away, so stop rather than fail every request.
        fail(networkReason(err));
        tally.stopped ??= errors.unavailable(
          `the server at ${base} stopped answering (${networkReason(err)})`,
        );
      }
      onDone();
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, phase.count) }, client));
}

async function progress(total: number): Promise<{ tick(): void; stop(): void }> {
  if (!isInteractive()) return { tick() {}, stop() {} };
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar(
    { format: 'traffic |{bar}| {value}/{total} requests', hideCursor: true, stream: process.stderr },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return { tick: () => bar.increment(), stop: () => bar.stop() };
}

const percent = (n: number, d: number): string => (d === 0 ? '—' : `${((100 * n) / d).toFixed(1)}%`);

export async function demoTrafficCommand(opts: DemoTrafficOptions): Promise<void> {
  const base = baseUrl(opts.url);
  const input = await demoInput(base);
  const digits = loadDigits();
  const cleanCount = opts.drift ? Math.floor(opts.requests / 2) : opts.requests;
  const phases: Phase[] = [{ name: 'clean', first: 0, count: cleanCount, drift: false }];
  if (opts.drift)
    phases.push({ name: 'drifted', first: cleanCount, count: opts.requests - cleanCount, drift: true });
  if (opts.drift) {
    process.stdout.write(
      `--drift: requests ${cleanCount + 1} to ${opts.requests} add ${DRIFT_SHIFT} (at most ${PIXEL_MAX}) to ${DRIFT_PIXELS.map((c) => digits.columns[c]).join(', ')} and send wrong labels ((digit + 1) mod 10)\n`,
    );
  }
  const runId = randomUUID().slice(0, 8);
  const bar = await progress(opts.requests);
  const tallies: Tally[] = [];
  try {
    for (const phase of phases.filter((p) => p.count > 0)) {
      const tally: Tally = {
        sent: 0,
        failed: 0,
        rows: 0,
        correct: 0,
        accepted: 0,
        firstError: null,
        stopped: null,
      };
      tallies.push(tally);
      await runPhase(base, input, digits, phase, opts, runId, tally, () => bar.tick());
      if (tally.stopped !== null) break;
    }
  } finally {
    bar.stop();
  }
  const total = tallies.reduce(
    (t, x) => ({ sent: t.sent + x.sent, failed: t.failed + x.failed, accepted: t.accepted + x.accepted }),
    { sent: 0, failed: 0, accepted: 0 },
  );
  tallies.forEach((t, i) => {
    const phase = phases[i] as Phase;
    process.stdout.write(
      `${phase.name}: ${t.sent} requests, ${t.rows} digits, accuracy against the labels sent ${percent(t.correct, t.rows)}, ${t.accepted} labels accepted, ${t.failed} failed\n`,
    );
  });
  process.stdout.write(
    `sent ${total.sent} requests (${opts.rows} digits each) with request ids traffic-${runId}-N; ${total.accepted} feedback labels accepted; ${total.failed} failures\n`,
  );
  const stopped = tallies.find((t) => t.stopped !== null)?.stopped;
  if (stopped)
    throw errors.withCode(
      stopped.code,
      `${stopped.message} after ${total.sent} of ${opts.requests} requests`,
    );
  process.stdout.write(
    `open the dashboard: ${base}/   (the monitor API: ${base}/v2/models/${DEMO_MODEL}/monitor)\n`,
  );
  const firstError = tallies.find((t) => t.firstError !== null)?.firstError;
  if (total.failed > 0)
    throw errors.unavailable(
      `${total.failed} of ${total.sent} requests failed; the first: ${firstError ?? 'unknown'}`,
    );
}
