/**
 * The baseline: a case run through onnxruntime-node in this thread, with its own small tensor
 * conversion so that a fault in tend's (src/runtime/tensor-conversion.ts) cannot hide in both paths.
 */
import ort from 'onnxruntime-node';
import type { DataType, Tensor, TensorData } from '../../src/core/tensor.js';
import type { CarriableCase } from './cases.js';

const ORT_TYPES: Readonly<Record<DataType, ort.Tensor.Type>> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

function tendType(type: string): DataType | undefined {
  return (Object.keys(ORT_TYPES) as DataType[]).find((k) => ORT_TYPES[k] === type);
}

/** The outputs of a direct run, or the message of the failure (session creation or run). */
export type DirectOutcome = { ok: true; outputs: Tensor[] } | { ok: false; error: string };

/** Run a case's inputs through a fresh onnxruntime session (one intra-op thread: the suite runs many). */
export async function runDirect(c: CarriableCase): Promise<DirectOutcome> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(c.modelPath, { intraOpNumThreads: 1, logSeverityLevel: 4 });
  } catch (err) {
    return { ok: false, error: `session: ${(err as Error).message}` };
  }
  try {
    const feeds: Record<string, ort.Tensor> = {};
    // ORT may take ownership of nothing here, but copy anyway: the server path sends the same inputs.
    for (const t of c.inputs)
      feeds[t.name] = new ort.Tensor(ORT_TYPES[t.datatype], t.data.slice() as TensorData, t.shape);
    const results = await session.run(feeds);
    const outputs: Tensor[] = [];
    for (const name of session.outputNames) {
      const value = results[name];
      if (value === undefined) return { ok: false, error: `run: no output '${name}'` };
      const datatype = tendType(value.type);
      if (datatype === undefined) return { ok: false, error: `run: output '${name}' has type ${value.type}` };
      let data = value.data as TensorData;
      if (datatype === 'FP16' && !(data instanceof Uint16Array)) {
        const view = data as unknown as ArrayBufferView;
        data = new Uint16Array(view.buffer, view.byteOffset, view.byteLength / 2);
      }
      outputs.push({ name, datatype, shape: [...value.dims], data });
    }
    return { ok: true, outputs };
  } catch (err) {
    return { ok: false, error: `run: ${(err as Error).message}` };
  } finally {
    await session.release().catch(() => undefined);
  }
}
