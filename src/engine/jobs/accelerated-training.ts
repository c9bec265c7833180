/**
 * Training on onnxruntime: an Adam-trained MLP runs each epoch as one session.run of its epoch
 * graph (train/epoch-graph.ts) in this process, so MLAS does the arithmetic; every other model kind
 * and optimizer trains in TypeScript (trainModel). The session blocks the calling thread while an
 * epoch runs: fine for `tend train` in the CLI process, never for the server's event loop.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDirectSession } from '../../runtime/index.js';
import {
  acceleratedTrainingSupports,
  trainMlpAccelerated,
  trainModel,
  type EpochRunner,
  type TrainingTable,
  type TrainOptions,
  type TrainResult,
} from '../../train/index.js';

/**
 * One intra-op thread: an epoch is hundreds of small kernels (a [64] MLP's matrices are 64 wide), and
 * waking a second pool thread for each costs more than it saves — on 2 cores one thread ran the digits
 * MLP 3–4× faster than two (see BENCHMARKS.md, training).
 */
export const TRAINING_INTRA_OP_THREADS = 1;

export interface RuntimeTrainingOptions {
  /** onnxruntime intra-op threads of the epoch session. Default TRAINING_INTRA_OP_THREADS. */
  intraOpThreads?: number;
}

/** An EpochRunner on an in-process onnxruntime session of `graph` (the file is removed once loaded). */
export async function openEpochRunner(
  graph: Uint8Array,
  options: RuntimeTrainingOptions = {},
): Promise<EpochRunner> {
  const dir = mkdtempSync(join(tmpdir(), 'tend-epoch-'));
  let session;
  try {
    const path = join(dir, 'epoch.onnx');
    writeFileSync(path, graph);
    session = await createDirectSession(path, {
      intraOpThreads: options.intraOpThreads ?? TRAINING_INTRA_OP_THREADS,
      graphOptimizationLevel: 'all',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const opened = session;
  return { run: (inputs) => opened.run(inputs), close: () => opened.release() };
}

/**
 * Train as trainModel does; an MLP trained with Adam (the default) runs its epochs on onnxruntime,
 * everything else in TypeScript. Same TrainResult shape either way.
 */
export async function trainWithRuntime(
  table: TrainingTable,
  options: TrainOptions,
  runtime: RuntimeTrainingOptions = {},
): Promise<TrainResult> {
  if (!acceleratedTrainingSupports(options)) return trainModel(table, options);
  return trainMlpAccelerated(table, options, (graph) => openEpochRunner(graph, runtime));
}
