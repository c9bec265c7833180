export { Engine, type EngineOptions, type InferRequest, type InferResponse } from './engine.js';
export { ServedVersion, inferMaxBatchSize, type VersionState, type VersionSource } from './served-version.js';
export { validateInputs, validateRequestedOutputs } from './validate.js';
export { selectVersions } from './version-policy.js';
export { warmupInputs } from './warmup.js';
