import type { ModelSignature } from '../../core/signature.js';
import { isDynamicDim } from '../../core/signature.js';
import { allocateData, elementCount, type Tensor } from '../../core/tensor.js';
import { errors } from '../../core/errors.js';

/** Zero-filled inputs of batch 1 (every dynamic dimension 1) for the warm-up run of a new version. */
export function warmupInputs(signature: ModelSignature): Tensor[] {
  return signature.inputs.map((spec) => {
    if (spec.datatype === null)
      throw errors.invalidModel(`input '${spec.name}' has type ${spec.onnx_type}, which tend cannot serve`);
    const shape = (spec.shape ?? [1]).map((d) => (isDynamicDim(d) ? 1 : d));
    return {
      name: spec.name,
      datatype: spec.datatype,
      shape,
      data: allocateData(spec.datatype, elementCount(shape)),
    };
  });
}
