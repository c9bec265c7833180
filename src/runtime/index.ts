/**
 * runtime: the only module that talks to onnxruntime-node. Models run in worker threads or child
 * processes (one session each); batches cross as one message (transferred ArrayBuffers to a thread,
 * structured-clone IPC to a process).
 */
export { Runtime, crashWorkerForTest, type InstanceGroup, type LoadRequest } from './runtime.js';
export type { LoadedModel, RunResult } from './loaded-model.js';
export type { SessionSettings } from './session-settings.js';
export { createDirectSession } from './direct-session.js';
export { liveProcessIds, liveWorkerCount } from './instance-backend.js';
export { residentMemoryMb } from './model-process.js';
export { faultInjectionEnabled } from './fault-injection.js';
export type { InstanceCrashMode } from './protocol.js';
