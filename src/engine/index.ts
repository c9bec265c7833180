// The engine's public names: what the frontends (server, CLI) and the library API use. Engine-owned
// names only; the layers below are reached through the engine's rooms, not re-exported here.
export { Engine, type EngineOptions, type InferRequest, type InferResponse, type RepositoryIndexEntry, type RoutedRequest } from './engine.js';
// serving
export { checkClassificationK, classify } from './serving/classification.js';
export { ServedVersion, inferMaxBatchSize, type VersionState, type VersionSource } from './serving/served-version.js';
export { validateInputs, validateRequestedOutputs } from './serving/validate.js';
export { selectVersions } from './serving/version-policy.js';
export { warmupInputs } from './serving/warmup.js';
export { attachReference, REFERENCE_FILE } from './serving/reference-data.js';
export type { CancelSignal } from './serving/run-request.js';
export { faultInjectionAvailable, injectFault } from './serving/fault-injection.js';
export { readCsvColumns, readFeatureRows } from './serving/tabular-files.js';
export { withRegistry } from './serving/registry-session.js';
// monitoring
export type { MonitorView } from './monitoring/monitor-view.js';
export { buildMonitorReport, driftedFeatures, type MonitorReport } from './monitoring/monitor-report.js';
export { monitorReportHtml } from './monitoring/report-html.js';
export type { DashboardModel, DashboardSeries } from './workflows/monitor-api.js';
// jobs
export { optimizeVersion, OPTIMIZE_METHODS, type OptimizeMethod, type OptimizeOptions, type OptimizeReport } from './jobs/optimize-job.js';
export { csvEvaluation, type EvaluationData } from './jobs/optimize-data.js';
export { optimizeReportHtml } from './jobs/optimize-html.js';
export { DEMO_MODEL, demoRequest, ensureDemoModel, type DemoModel } from './jobs/demo-model.js';
export { MODEL_KINDS, trainAndRegister, taskOf, type TrainJobOptions, type TrainJobResult, type TrainModelKind } from './jobs/training-job.js';
export { loadTrainedVersion, UPDATE_MODES, updateVersion, type UpdateMode, type UpdateOptions, type UpdateResult } from './jobs/update-job.js';
export { compareRuns } from './jobs/runs.js';
export { trainWithRuntime } from './jobs/accelerated-training.js';
// access
export { AccessControl, ANONYMOUS, type AccessOutcome, type Caller } from './access/access-control.js';
export { generateSigningKeys, signVersion, verifyVersionFile, SIGNATURE_KIND } from './access/model-integrity.js';
export { createApiToken, type CreatedToken } from './access/api-tokens.js';
export { rotateEncryptionKeys, type KeyRotationResult } from './access/encryption-keys.js';
