/**
 * tend as a library: the registry (push and list ONNX models), the engine in process (inference
 * without a server), the HTTP and gRPC servers, training from a CSV and optimization of a version.
 * Everything here is stable API; nothing else of the package is.
 *
 * @example
 * import { Registry, Engine } from 'tend-ml';
 *
 * const registry = await Registry.open('./.tend');
 * await registry.push('digits_mlp.onnx', { name: 'digits' });
 * await registry.close();
 *
 * const engine = await Engine.open({ home: './.tend' });
 * const { outputs } = await engine.infer('digits', {
 *   inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: new Float32Array(64) }],
 * });
 * await engine.close();
 */
export {
  Registry,
  resolveHomeDir,
  type ModelSummary,
  type ModelVersion,
  type PushedVersion,
  type PushModelOptions,
  type RegistryOpenOptions,
} from './api/registry.js';
export { Engine, type EngineOpenOptions } from './api/engine.js';
export { startServer, type RunningTendServer, type StartServerOptions } from './api/server.js';
export {
  optimize,
  train,
  type OptimizeModelOptions,
  type OptimizeResult,
  type TrainedVersion,
  type TrainModelOptions,
} from './api/jobs.js';
export type { InferRequest, InferResponse } from './engine/index.js';
export { DATA_TYPES, type DataType, type NumericArray, type Tensor, type TensorData } from './core/tensor.js';
export type { Dim, ModelSignature, TensorSpec } from './core/signature.js';
export type { ServerConfig, ServerConfigInput } from './core/config.js';
export { TendError, type ErrorCode } from './core/errors.js';
export { TEND_VERSION } from './core/version.js';
