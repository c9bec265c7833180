/** Session settings as tend states them, and their translation into onnxruntime's SessionOptions. */
import type { InferenceSession } from 'onnxruntime-node';
import type { GraphOptimizationLevel } from '../core/config.js';

export interface SessionSettings {
  /** onnxruntime intraOpNumThreads (0/undefined = ORT default: one per physical core). */
  intraOpThreads?: number;
  /** onnxruntime interOpNumThreads (only used by the parallel execution mode; 0/undefined = ORT default). */
  interOpThreads?: number;
  graphOptimizationLevel: GraphOptimizationLevel;
  /**
   * Let ORT's pool threads busy-wait for work after a run (default false). Spinning shaves a little
   * latency off back-to-back runs but burns a core while idle, which on a small box starves the
   * HTTP main thread and the other workers.
   */
  allowSpinning?: boolean;
  /** Write the graph as onnxruntime optimized it to this file when the session is created (offline optimization). */
  optimizedModelFilePath?: string;
}

/** ORT's log severity 3 = errors only: ORT writes straight to stderr, outside tend's structured logs. */
const ORT_LOG_ERRORS_ONLY = 3;

/** The onnxruntime SessionOptions for `settings` (CPU provider, sequential execution). */
export function toOrtSessionOptions(settings: SessionSettings): InferenceSession.SessionOptions {
  const spinning = settings.allowSpinning === true ? '1' : '0';
  const options: InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    executionMode: 'sequential',
    graphOptimizationLevel: settings.graphOptimizationLevel,
    logSeverityLevel: ORT_LOG_ERRORS_ONLY,
    // The Node binding flattens nested `extra` keys with '.', giving ORT's config keys
    // session.intra_op.allow_spinning / session.inter_op.allow_spinning; values must be strings.
    extra: { session: { intra_op: { allow_spinning: spinning }, inter_op: { allow_spinning: spinning } } },
  };
  // Only set when asked: ORT rejects explicit `undefined` for some options (e.g. `extra`).
  if (settings.intraOpThreads !== undefined && settings.intraOpThreads > 0) {
    options.intraOpNumThreads = settings.intraOpThreads;
  }
  if (settings.optimizedModelFilePath !== undefined)
    options.optimizedModelFilePath = settings.optimizedModelFilePath;
  if (settings.interOpThreads !== undefined && settings.interOpThreads > 0) {
    options.interOpNumThreads = settings.interOpThreads;
  }
  return options;
}
