/** onnxruntime in the calling thread: the raw baseline for benchmarks and for checking the workers. */
import ort from 'onnxruntime-node';
import type { Tensor } from '../core/tensor.js';
import { toOrtSessionOptions, type SessionSettings } from './session-settings.js';
import { fromOrtTensor, toOrtTensor } from './tensor-conversion.js';

export interface DirectSession {
  /** Blocks the calling thread for the duration of session.run. */
  run(inputs: Tensor[]): Promise<Tensor[]>;
  inputNames: string[];
  outputNames: string[];
  release(): Promise<void>;
}

/** In-process session for benchmarks and tests that need the raw onnxruntime baseline (blocks the calling thread). */
export async function createDirectSession(
  modelPath: string,
  session: SessionSettings,
): Promise<DirectSession> {
  const ortSession = await ort.InferenceSession.create(modelPath, toOrtSessionOptions(session));
  const outputNames = [...ortSession.outputNames];
  return {
    inputNames: [...ortSession.inputNames],
    outputNames,
    async run(inputs: Tensor[]): Promise<Tensor[]> {
      const feeds: Record<string, ort.Tensor> = {};
      for (const input of inputs) feeds[input.name] = toOrtTensor(input);
      const results = await ortSession.run(feeds);
      return outputNames.map((name) => {
        const value = results[name];
        if (value === undefined) throw new Error(`onnxruntime returned no output '${name}'`);
        return fromOrtTensor(name, value);
      });
    },
    release: () => ortSession.release(),
  };
}
