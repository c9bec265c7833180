export { Engine, type EngineOptions, type InferRequest, type InferResponse, type RepositoryIndexEntry } from './engine.js';
export { checkClassificationK, classify } from './classification.js';
export { ServedVersion, inferMaxBatchSize, type VersionState, type VersionSource } from './served-version.js';
export { validateInputs, validateRequestedOutputs } from './validate.js';
export { selectVersions } from './version-policy.js';
export { warmupInputs } from './warmup.js';
export { attachReference, REFERENCE_FILE } from './reference-data.js';
export { MONITOR_DB_FILE } from './monitoring.js';
export { optimizeVersion, OPTIMIZE_METHODS, type OptimizeMethod, type OptimizeOptions, type OptimizeReport } from './optimize-job.js';
export { csvEvaluation, type EvaluationData } from './optimize-data.js';
export { optimizeReportHtml } from './optimize-html.js';
export type { MonitorView } from './monitor-view.js';
export { DEMO_MODEL, demoRequest, ensureDemoModel, type DemoModel } from './demo-model.js';
export type { CancelSignal } from '../batching/index.js';
// The registry facade and tabular-data reading, for the management commands of the CLI.
export { Registry } from '../registry/index.js';
export { parseNumericCsv } from '../train/index.js';
// General CSV (numbers, strings, missing cells), for feedback files and reference data sets.
export { parseReferenceCsv as parseReferenceRows } from '../monitor/reference-table.js';
export { MODEL_KINDS, trainAndRegister, taskOf, type TrainJobOptions, type TrainJobResult } from './training-job.js';
export { loadTrainedVersion, UPDATE_MODES, updateVersion, type UpdateMode, type UpdateOptions, type UpdateResult } from './update-job.js';
export { compareRuns } from './runs.js';
export type { ModelKind } from '../train/index.js';
export { AccessControl, ANONYMOUS, type AccessOutcome, type Caller } from './access-control.js';
export { ConcurrencyLimiter, overloadedError, rateLimitedError, TokenBucket, tooManyInFlightError } from '../security/index.js';
export { generateSigningKeys, signVersion, verifyVersionFile, SIGNATURE_KIND } from './model-integrity.js';
export { createApiToken, type CreatedToken } from './api-tokens.js';
