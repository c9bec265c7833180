/** Training runs as the CLI and HTTP API show them. */
import { compareRunRecords, type Registry, type RunComparison } from '../../registry/index.js';

/** Compare runs side by side (parameters and metrics as keys × runs, differences marked). @throws TEND_NOT_FOUND for an unknown id */
export async function compareRuns(registry: Registry, runIds: readonly string[]): Promise<RunComparison> {
  return compareRunRecords(await Promise.all(runIds.map((id) => registry.getRun(id))));
}
