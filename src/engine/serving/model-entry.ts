/** One model as the engine tracks it: where it comes from, its config, and its version objects. */
import type { ModelConfig } from '../../core/config.js';
import { type TendError, errors } from '../../core/errors.js';
import type { ServedVersion, VersionSource } from './served-version.js';

export interface ModelEntry {
  name: string;
  source: VersionSource;
  config: ModelConfig;
  versions: Map<number, ServedVersion>;
  /** Repository models: every version folder on disk (only those the policy picks are served). */
  onDisk?: Map<number, string>;
  /** A model that cannot be served at all (bad config.yaml). */
  error?: string;
  /** Unloaded through the repository API: nothing loads until it is loaded again. */
  unloaded?: boolean;
  /** Added by an explicit load that failed: shown in the index, not counted against readiness. */
  optional?: boolean;
}

/** The highest ready version of a model, if any. */
export function highestReady(entry: ModelEntry): ServedVersion | undefined {
  let best: ServedVersion | undefined;
  for (const v of entry.versions.values()) if (v.isReady && (!best || v.version > best.version)) best = v;
  return best;
}

export function unloadedError(name: string): TendError {
  return errors.modelNotReady(
    `model '${name}' is unloaded; load it with POST /v2/repository/models/${name}/load`,
  );
}
