/** Training runs as the CLI and HTTP API show them. */
import {
  compareRunRecords,
  type Registry,
  type RunComparison,
  type RunListOptions,
  type RunRecord,
} from '../../registry/index.js';

/**
 * Compare runs side by side (parameters and metrics as keys × runs, differences marked). @throws
 * TEND_NOT_FOUND for an unknown id
 */
export async function compareRuns(registry: Registry, runIds: readonly string[]): Promise<RunComparison> {
  return compareRunRecords(await Promise.all(runIds.map((id) => registry.runs.get(id))));
}

/** The training runs of the registry, read-only: what the runs API shows. */
export class RunHistory {
  constructor(private readonly registry: Registry) {}

  /** Runs, newest first (of one model, at most `limit`, when given). */
  list(options: RunListOptions = {}): Promise<RunRecord[]> {
    return this.registry.runs.list(options);
  }

  /** One run. @throws TEND_NOT_FOUND for an unknown id */
  get(runId: string): Promise<RunRecord> {
    return this.registry.runs.get(runId);
  }
}
