/**
 * What the model table starts from: every model of the registry and of the repositories on disk,
 * each with its merged config and no version loaded. A name served twice keeps its first source.
 */
import type { ModelConfig, ServerConfig } from '../../core/config.js';
import { mergeModelConfig } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import { scanRepository, type Registry, type RepositoryModel } from '../../registry/index.js';
import type { ModelEntry } from './model-entry.js';

/** The config of a registry model: the defaults merged with its section of the server config. */
export function registryModelConfig(config: ServerConfig, name: string): ModelConfig {
  return mergeModelConfig(config.model_defaults, config.models[name] ?? {});
}

/** A table entry for a model found in a repository (versions not loaded). */
export function repositoryEntry(config: ServerConfig, rm: RepositoryModel): ModelEntry {
  const entry: ModelEntry = {
    name: rm.name,
    source: 'repository',
    config: mergeModelConfig(config.model_defaults, rm.config),
    versions: new Map(),
    onDisk: new Map(rm.versions.map((v) => [v.version, v.path])),
  };
  if (rm.error !== undefined) entry.error = rm.error;
  return entry;
}

/** Entries for every registry model, then every repository model (`only`: these names). */
export async function discoverModels(
  registry: Registry,
  repos: readonly string[],
  config: ServerConfig,
  logger: Logger,
  only: readonly string[] | undefined,
): Promise<ModelEntry[]> {
  const wanted = only ? new Set(only) : undefined;
  const found = new Map<string, ModelEntry>();
  for (const m of await registry.models.list()) {
    if (wanted && !wanted.has(m.name)) continue;
    found.set(m.name, {
      name: m.name,
      source: 'registry',
      config: registryModelConfig(config, m.name),
      versions: new Map(),
    });
  }
  for (const dir of repos) {
    const { models, warnings } = scanRepository(dir);
    for (const w of warnings) logger.warn({ repo: dir }, w);
    for (const rm of models) {
      if (wanted && !wanted.has(rm.name)) continue;
      if (found.has(rm.name)) {
        logger.warn(
          { model: rm.name, repo: dir },
          'model name already served from the registry or another repository; skipped',
        );
        continue;
      }
      found.set(rm.name, repositoryEntry(config, rm));
    }
  }
  return [...found.values()];
}
