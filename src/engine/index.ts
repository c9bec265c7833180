// The engine's public names: what the frontends (server, CLI) and the library API use. Engine-owned
// names only; the layers below are reached through the engine's rooms, not re-exported here.
export {
  Engine,
  type ExplainResponse,
  type ImportanceQuery,
  type ImportanceResponse,
  type InferRequest,
  type InferResponse,
} from './engine.js';
// serving
export { checkClassificationK } from './serving/classification.js';
export { ServedVersion, inferMaxBatchSize } from './serving/served-version.js';
export { attachReference } from './serving/reference-data.js';
export type { CancelSignal } from './serving/run-request.js';
export { faultInjectionAvailable, injectFault } from './serving/fault-injection.js';
export { readCsvColumns, readFeatureRows } from './serving/tabular-files.js';
export { withRegistry } from './serving/registry-session.js';
// monitoring
export type { MonitorView } from './monitoring/monitor-view.js';
export { buildMonitorReport, driftedFeatures, type MonitorReport } from './monitoring/monitor-report.js';
export { monitorReportHtml } from './monitoring/report-html.js';
export { parseLogDeleteRequest, parseWhere, type LogDeleteRequest } from './monitoring/log-deletion.js';
// jobs
export {
  optimizeVersion,
  OPTIMIZE_METHODS,
  type OptimizeMethod,
  type OptimizeReport,
} from './jobs/optimize-job.js';
export {
  optimizeAuto,
  type AutoCandidateRow,
  type AutoOptions,
  type AutoReport,
} from './jobs/optimize-auto.js';
export { csvEvaluation, type EvaluationData } from './jobs/optimize-data.js';
export type { FinetuneData } from './jobs/optimize-finetune.js';
export { CALIBRATION_METHODS, type CalibrationMethod } from '../optimize/index.js';
export { DEMO_MODEL, demoRequest, ensureDemoModel } from './jobs/demo-model.js';
export {
  MODEL_KINDS,
  trainAndRegister,
  type TrainJobOptions,
  type TrainJobResult,
  type TrainModelKind,
} from './jobs/training-job.js';
export { UPDATE_MODES, updateVersion, type UpdateMode } from './jobs/update-job.js';
export { compareRuns } from './jobs/runs.js';
export { EXPLAIN_METHODS, type ExplainMethod } from './jobs/explain-job.js';
export { trainCommandAndRegister, type CommandTrainingOptions } from './jobs/command-training.js';
export { tuneAndRegister, type TuneJobOptions, type TuneJobResult } from './jobs/tune-job.js';
export { listStudies, studyReport, type StudyReport } from './jobs/tune-report.js';
export { PRUNERS, SAMPLERS } from '../tune/index.js';
// access
export { AccessControl, type AccessOutcome, type Caller } from './access/access-control.js';
export { generateSigningKeys, signVersion, verifyVersionFile } from './access/model-integrity.js';
export { createApiToken } from './access/api-tokens.js';
export { rotateEncryptionKeys } from './access/encryption-keys.js';
