/**
 * Entry of a model worker thread: one onnxruntime session, runs served one after another.
 * Everything runs through one promise chain so that a release never overtakes a queued run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { Tensor } from '../core/tensor.js';
import { CRASH_EXIT_CODE, type FromWorker, type ToWorker, type WorkerInit } from './protocol.js';
import { toOrtSessionOptions } from './session-settings.js';
import { fromOrtTensor, toOrtTensor } from './tensor-conversion.js';
import { prepareTransfer } from './transfer.js';

if (parentPort === null) throw new Error('runtime/worker must run in a worker thread');
const port = parentPort;
const init = workerData as WorkerInit;

let session: ort.InferenceSession | null = null;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function feedsOf(inputs: readonly Tensor[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) feeds[input.name] = toOrtTensor(input);
  return feeds;
}

async function execute(current: ort.InferenceSession, inputs: readonly Tensor[]): Promise<{ outputs: Tensor[]; computeNs: number }> {
  const feeds = feedsOf(inputs);
  const started = process.hrtime.bigint();
  const results = await current.run(feeds);
  const computeNs = Number(process.hrtime.bigint() - started);
  const outputs = current.outputNames.map((name) => {
    const value = results[name];
    if (value === undefined) throw new Error(`onnxruntime returned no output '${name}'`);
    return fromOrtTensor(name, value);
  });
  return { outputs, computeNs };
}

async function load(): Promise<boolean> {
  let created: ort.InferenceSession | null = null;
  let warmupError: string | undefined;
  try {
    created = await ort.InferenceSession.create(init.modelPath, toOrtSessionOptions(init.session));
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
    post({ type: 'load-failed', message: reason(err) });
    return false;
  }
  session = created;
  post({
    type: 'ready',
    inputNames: [...created.inputNames],
    outputNames: [...created.outputNames],
    ...(warmupError !== undefined ? { warmupError } : {}),
  });
  return true;
}

async function handle(message: ToWorker): Promise<void> {
  if (message.type === 'run') {
    if (session === null) {
      post({ type: 'run-failed', id: message.id, message: 'the session is not loaded' });
      return;
    }
    try {
      const { outputs, computeNs } = await execute(session, message.inputs);
      const prepared = prepareTransfer(outputs);
      post({ type: 'result', id: message.id, outputs: prepared.tensors, computeNs }, prepared.transfer);
    } catch (err) {
      post({ type: 'run-failed', id: message.id, message: reason(err) });
    }
  } else if (message.type === 'release') {
    const current = session;
    session = null;
    if (current !== null) await current.release();
    post({ type: 'released' });
  }
}

let chain: Promise<unknown> = load();

port.on('message', (message: ToWorker) => {
  if (message.type === 'crash') {
    // Test hook: die now, not after the queued work, so in-flight runs see the failure.
    if (message.mode === 'exit') process.exit(CRASH_EXIT_CODE);
    setImmediate(() => {
      throw new Error('worker crash requested by a test');
    });
    return;
  }
  chain = chain.then(() => handle(message));
});
