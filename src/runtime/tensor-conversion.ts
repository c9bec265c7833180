/** tend Tensor ↔ onnxruntime Tensor. Data is shared, not copied, in both directions where ORT allows. */
import ort from 'onnxruntime-node';
import type { DataType, Tensor, TensorData } from '../core/tensor.js';

const ORT_TYPE: Readonly<Record<DataType, ort.Tensor.Type>> = {
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

const TEND_TYPE: ReadonlyMap<string, DataType> = new Map(
  Object.entries(ORT_TYPE).map(([tend, ortType]) => [ortType, tend as DataType]),
);

/** Wrap a tend tensor for onnxruntime (FP16 as Uint16Array half bits, BOOL as 0/1 bytes, BYTES as strings). */
export function toOrtTensor(tensor: Tensor): ort.Tensor {
  if (Array.isArray(tensor.data)) {
    // The Node binding passes strings as C strings: everything after a NUL would be dropped silently.
    const at = tensor.data.findIndex((s) => s.includes('\0'));
    if (at >= 0) {
      throw new Error(
        `input '${tensor.name}' element ${at} contains a NUL character, which onnxruntime-node cannot pass`,
      );
    }
  }
  return new ort.Tensor(ORT_TYPE[tensor.datatype], tensor.data, tensor.shape);
}

/** A tend tensor named `name` holding the data of an onnxruntime output. */
export function fromOrtTensor(name: string, value: ort.Tensor): Tensor {
  const datatype = TEND_TYPE.get(value.type);
  if (datatype === undefined) {
    throw new Error(`output '${name}' has type '${value.type}', which tend cannot carry`);
  }
  let data = value.data as TensorData;
  // Where the runtime has Float16Array, ORT hands float16 out as one; tend always carries the raw bits.
  if (datatype === 'FP16' && !(data instanceof Uint16Array)) {
    const view = data as unknown as ArrayBufferView;
    data = new Uint16Array(view.buffer, view.byteOffset, view.byteLength / 2);
  }
  return { name, datatype, shape: [...value.dims], data };
}
