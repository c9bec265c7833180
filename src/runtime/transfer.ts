/** Preparing tensors to cross a thread boundary as transferred ArrayBuffers. */
import type { NumericArray, Tensor } from '../core/tensor.js';

export interface TransferableTensors {
  tensors: Tensor[];
  transfer: ArrayBuffer[];
}

function copyOf(data: NumericArray): NumericArray {
  // Buffer (a Uint8Array subclass) would make slice()/new Buffer() views or deprecated calls: copy as plain bytes.
  if (data instanceof Uint8Array) return new Uint8Array(data);
  const Ctor = data.constructor as new (source: NumericArray) => NumericArray;
  return new Ctor(data);
}

/**
 * The tensors to post plus the buffers to transfer. A typed array that owns its whole ArrayBuffer is
 * transferred as is (the sender's copy becomes detached); views on a larger or shared buffer, and a
 * second tensor on an already listed buffer, are copied first so the transfer never takes more than
 * the tensor. String tensors and empty (or detached) arrays are structured-cloned; cloning a
 * detached array throws, which the caller reports.
 */
export function prepareTransfer(tensors: readonly Tensor[]): TransferableTensors {
  const transfer = new Set<ArrayBuffer>();
  const out = tensors.map((tensor): Tensor => {
    const { name, datatype, shape } = tensor;
    if (Array.isArray(tensor.data)) return { name, datatype, shape: [...shape], data: tensor.data };
    let data = tensor.data;
    const buffer = data.buffer;
    // Node silently drops a message whose transfer list holds a detached buffer; left out of the
    // list, a detached array makes postMessage throw instead (and an empty one clones for free).
    if (buffer.byteLength === 0) return { name, datatype, shape: [...shape], data };
    const ownsBuffer =
      buffer instanceof ArrayBuffer &&
      data.byteOffset === 0 &&
      data.byteLength === buffer.byteLength &&
      !transfer.has(buffer);
    if (!ownsBuffer) data = copyOf(data);
    transfer.add(data.buffer as ArrayBuffer);
    return { name, datatype, shape: [...shape], data };
  });
  return { tensors: out, transfer: [...transfer] };
}
