/** `tend demo`: train the digits model once, register it, serve it and print a curl line to try. */
import { resolveServerConfig } from '../../core/config.js';
import { DEMO_MODEL, demoRequest, ensureDemoModel } from '../../engine/index.js';
import { resolveHome } from '../home.js';
import { isInteractive, printJson } from '../output.js';
import { startServing, stopOnSignals } from './serve.js';

export interface DemoOptions {
  home?: string;
  host: string;
  port: number;
  grpcPort: number;
  grpc: boolean;
  serve: boolean;
  json?: boolean;
}

/** Reuse or train the demo model, with a progress bar on a terminal. */
async function prepareDemoModel(home: string, quiet: boolean) {
  const bar = !quiet && isInteractive() ? await progressBar() : undefined;
  const model = await ensureDemoModel(home, (epoch, epochs, loss) => bar?.update(epoch, epochs, loss));
  bar?.stop();
  if (!quiet && model.trained && model.test_accuracy !== null) {
    process.stdout.write(
      `trained the digits model (64 → 32 ReLU → 10 softmax) in ${model.epochs} epochs: test accuracy ${(model.test_accuracy * 100).toFixed(1)}% — registered ${model.name} version ${model.version} (alias champion)\n`,
    );
  }
  return model;
}

async function progressBar(): Promise<{
  update(epoch: number, epochs: number, loss: number): void;
  stop(): void;
}> {
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar(
    {
      format: 'training digits |{bar}| epoch {value}/{total}  loss {loss}',
      hideCursor: true,
      stream: process.stderr,
    },
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
  const { body, digit } = demoRequest();
  return `curl -s ${url}/v2/models/${DEMO_MODEL}/infer -d '${body}'\n  (this is a handwritten ${digit}: look at the "label" output)`;
}

export async function demoCommand(opts: DemoOptions): Promise<void> {
  const home = resolveHome(opts.home);
  const model = await prepareDemoModel(home, Boolean(opts.json));
  if (!model.trained && !opts.json)
    process.stdout.write(`using the digits model already in ${home} (version ${model.version})\n`);
  if (!opts.serve) {
    if (opts.json) printJson(model);
    return;
  }
  const config = resolveServerConfig({
    flags: {
      host: opts.host,
      port: opts.port,
      grpcPort: opts.grpcPort,
      grpc: opts.grpc,
      home,
      logLevel: process.env['TEND_LOG_LEVEL'] ?? 'warn',
    },
  });
  const handle = await startServing(config, (_engine, url, grpcAddress) =>
    [
      '',
      `the digits model is served at ${url}/v2/models/${DEMO_MODEL}${grpcAddress ? ` (and over gRPC at ${grpcAddress})` : ''}`,
      'try it:',
      `  ${demoCurl(url)}`,
      `dashboard: ${url}/   labelled traffic for it: tend demo traffic --drift${url === 'http://127.0.0.1:8000' ? '' : ` --url ${url}`}`,
      `metrics: ${url}/metrics   stop: Ctrl-C`,
      '',
    ].join('\n'),
  );
  stopOnSignals(handle.stop);
}
