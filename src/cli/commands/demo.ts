/** `tend demo`: train the digits model once, register it, serve it and print a curl line to try. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveServerConfig } from '../../core/config.js';
import { Registry } from '../../registry/index.js';
import { digitsCsvPath, parseNumericCsv, trainDigitsModel } from '../../train/index.js';
import { resolveHome } from '../home.js';
import { isInteractive, printJson } from '../output.js';
import { startServing, stopOnSignals } from './serve.js';

export const DEMO_MODEL = 'digits';
const DEMO_TAG = 'demo';

export interface DemoOptions {
  home?: string;
  host: string;
  port: number;
  serve: boolean;
  json?: boolean;
}

interface DemoModel {
  name: string;
  version: number;
  trained: boolean;
  test_accuracy: number | null;
}

/** Reuse the demo model already in the registry, or train and push it. */
export async function ensureDemoModel(home: string, quiet: boolean): Promise<DemoModel> {
  const registry = await Registry.open(home, { actor: 'tend demo' });
  try {
    const existing = await registry.listVersions(DEMO_MODEL).catch(() => []);
    const demo = existing.filter((v) => v.tags[DEMO_TAG] === 'digits').sort((a, b) => b.version - a.version)[0];
    if (demo) {
      const accuracy = demo.metrics['test_accuracy'];
      return { name: DEMO_MODEL, version: demo.version, trained: false, test_accuracy: typeof accuracy === 'number' ? accuracy : null };
    }
    const bar = !quiet && isInteractive() ? await progressBar() : undefined;
    if (!quiet && !bar) process.stdout.write('training the digits model (64 → 32 ReLU → 10 softmax)…\n');
    const result = trainDigitsModel({
      onProgress: (epoch, epochs, loss) => bar?.update(epoch, epochs, loss),
    });
    bar?.stop();
    const dir = mkdtempSync(join(tmpdir(), 'tend-demo-'));
    try {
      const file = join(dir, 'digits.onnx');
      writeFileSync(file, result.model);
      const pushed = await registry.push(file, {
        name: DEMO_MODEL,
        aliases: ['champion'],
        tags: { [DEMO_TAG]: 'digits' },
        description: 'Handwritten digits (8×8 pixels, values 0–16) → digit 0–9; trained by tend demo',
        createdBy: 'tend demo',
        source: 'tend demo: assets/datasets/digits.csv',
        metrics: result.metrics,
      });
      if (!quiet) {
        process.stdout.write(`trained in ${result.metrics.epochs} epochs: test accuracy ${(result.metrics.test_accuracy * 100).toFixed(1)}% — registered ${DEMO_MODEL} version ${pushed.version} (alias champion)\n`);
      }
      return { name: DEMO_MODEL, version: pushed.version, trained: true, test_accuracy: result.metrics.test_accuracy };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await registry.close();
  }
}

async function progressBar(): Promise<{ update(epoch: number, epochs: number, loss: number): void; stop(): void }> {
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar(
    { format: 'training digits |{bar}| epoch {value}/{total}  loss {loss}', hideCursor: true, stream: process.stderr },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(epoch, epochs, loss) {
      if (!started) {
        bar.start(epochs, 0, { loss: '-' });
        started = true;
      }
      bar.update(epoch, { loss: loss.toFixed(4) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** A curl command that sends the first digit of the data set. */
export function demoCurl(url: string): string {
  const table = parseNumericCsv(readFileSync(digitsCsvPath(), 'utf8'), 'digits.csv');
  const features = Array.from(table.values.subarray(0, 64));
  const digit = table.values[64];
  const body = JSON.stringify({ inputs: [{ name: 'features', shape: [1, 64], datatype: 'FP32', data: features }] });
  return `curl -s ${url}/v2/models/${DEMO_MODEL}/infer -d '${body}'\n  (this is a handwritten ${digit}: look at the "label" output)`;
}

export async function demoCommand(opts: DemoOptions): Promise<void> {
  const home = resolveHome(opts.home);
  const model = await ensureDemoModel(home, Boolean(opts.json));
  if (!model.trained && !opts.json) process.stdout.write(`using the digits model already in ${home} (version ${model.version})\n`);
  if (!opts.serve) {
    if (opts.json) printJson(model);
    return;
  }
  const config = resolveServerConfig({ flags: { host: opts.host, port: opts.port, home, logLevel: process.env['TEND_LOG_LEVEL'] ?? 'warn' } });
  const handle = await startServing(config, (_engine, url) =>
    [
      '',
      `the digits model is served at ${url}/v2/models/${DEMO_MODEL}`,
      'try it:',
      `  ${demoCurl(url)}`,
      `metrics: ${url}/metrics   stop: Ctrl-C`,
      '',
    ].join('\n'),
  );
  stopOnSignals(handle.stop);
}
