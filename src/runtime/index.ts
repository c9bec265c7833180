/**
 * runtime: the only module that talks to onnxruntime-node. Models run in worker threads (one
 * session each); batches cross as one message with transferred ArrayBuffers.
 */
export { Runtime, crashWorkerForTest, type LoadRequest, type RuntimeOptions } from './runtime.js';
export type { LoadedModel, RunResult } from './loaded-model.js';
export type { SessionSettings } from './session-settings.js';
export { createDirectSession, type DirectSession } from './direct-session.js';
export { liveWorkerCount } from './model-worker.js';
export type { WorkerCrashMode } from './protocol.js';
