/**
 * The one implementation of the batch protocol on the session side, shared by the worker-thread
 * entry (worker.ts) and the child-process entry (process-host.ts): create the session, warm it up,
 * run batches, release. Everything runs through one promise chain so that a release never
 * overtakes a queued run; fault-injection requests skip the chain so in-flight runs see the failure.
 */
import ort from 'onnxruntime-node';
import type { Tensor } from '../core/tensor.js';
import { injectFault } from './fault-injection.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { toOrtSessionOptions } from './session-settings.js';
import { fromOrtTensor, toOrtTensor } from './tensor-conversion.js';

/**
 * How a host sends a reply to the main side (the thread entry transfers result buffers, the process entry
 * serializes them).
 */
export type PostReply = (message: FromWorker) => void;

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function feedsOf(inputs: readonly Tensor[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) feeds[input.name] = toOrtTensor(input);
  return feeds;
}

async function execute(
  session: ort.InferenceSession,
  inputs: readonly Tensor[],
): Promise<{ outputs: Tensor[]; computeNs: number }> {
  const feeds = feedsOf(inputs);
  const started = process.hrtime.bigint();
  const results = await session.run(feeds);
  const computeNs = Number(process.hrtime.bigint() - started);
  const outputs = session.outputNames.map((name) => {
    const value = results[name];
    if (value === undefined) throw new Error(`onnxruntime returned no output '${name}'`);
    return fromOrtTensor(name, value);
  });
  return { outputs, computeNs };
}

/** One onnxruntime session serving the batch protocol; starts loading at construction. */
export class SessionHost {
  private session: ort.InferenceSession | null = null;
  private chain: Promise<unknown>;

  constructor(
    private readonly init: WorkerInit,
    private readonly post: PostReply,
  ) {
    this.chain = this.load();
  }

  /** Handle one message from the main side. */
  receive(message: ToWorker): void {
    if (message.type === 'crash') {
      injectFault(message.mode);
      return;
    }
    this.chain = this.chain.then(() => this.handle(message));
  }

  private async load(): Promise<void> {
    const { init } = this;
    let created: ort.InferenceSession | null = null;
    let warmupError: string | undefined;
    try {
      const options = toOrtSessionOptions(init.session);
      created =
        init.modelBytes !== undefined
          ? await ort.InferenceSession.create(init.modelBytes, options)
          : await ort.InferenceSession.create(init.modelPath, options);
      if (init.warmup.length > 0) {
        try {
          await execute(created, init.warmup);
        } catch (err) {
          if (init.warmupRequired) throw new Error(`warm-up run failed: ${reason(err)}`);
          warmupError = reason(err);
        }
      }
    } catch (err) {
      if (created !== null) await created.release().catch(() => undefined);
      this.post({ type: 'load-failed', message: reason(err) });
      return;
    }
    this.session = created;
    this.post({
      type: 'ready',
      inputNames: [...created.inputNames],
      outputNames: [...created.outputNames],
      ...(warmupError !== undefined ? { warmupError } : {}),
    });
  }

  private async handle(message: Exclude<ToWorker, { type: 'crash' }>): Promise<void> {
    if (message.type === 'run') {
      if (this.session === null) {
        this.post({ type: 'run-failed', id: message.id, message: 'the session is not loaded' });
        return;
      }
      try {
        const { outputs, computeNs } = await execute(this.session, message.inputs);
        this.post({ type: 'result', id: message.id, outputs, computeNs });
      } catch (err) {
        this.post({ type: 'run-failed', id: message.id, message: reason(err) });
      }
    } else {
      const current = this.session;
      this.session = null;
      if (current !== null) await current.release();
      this.post({ type: 'released' });
    }
  }
}
