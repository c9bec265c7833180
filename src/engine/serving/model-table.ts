/**
 * The model table (the role of Triton's model repository manager): every model the server knows,
 * from the registry and from repositories on disk, with the version objects it serves. It resolves
 * a model reference (`NAME`, `NAME@ALIAS`, a version number) to a version, creating and loading it
 * on first use, and answers listings and statistics. ModelControl (explicit load/unload) and
 * ModelPoller (poll mode) change the table through it.
 */
import { checkModelRef } from '../../core/input-limits.js';
import type { ModelConfig, ServerConfig } from '../../core/config.js';
import { DEFAULT_VERSION_POLICY } from '../../core/config.js';
import { errors } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { InferenceMetrics } from '../../monitor/metrics.js';
import { VersionStatistics, type ModelStatistics } from '../../monitor/statistics.js';
import type { Registry, RepositoryModel, VersionRecord } from '../../registry/index.js';
import type { Runtime } from '../../runtime/index.js';
import { highestReady, unloadedError, type ModelEntry } from './model-entry.js';
import { discoverModels, registryModelConfig, repositoryEntry } from './model-discovery.js';
import { ServedVersion, type VersionSource } from './served-version.js';
import { selectVersions } from './version-policy.js';

/** What a model file must pass before it loads (size, recorded sha256, signature): given by the engine. */
export interface LoadGuards {
  registry(record: VersionRecord): () => Promise<Uint8Array | void>;
  repository(label: string, path: string): () => Promise<void>;
}

export interface ModelTableOptions {
  registry: Registry;
  runtime: Runtime;
  config: ServerConfig;
  logger: Logger;
  /** Triton-like repositories served in place. */
  repos: readonly string[];
  metrics: InferenceMetrics;
  guards: LoadGuards;
  /** Versions an endpoint's deployment routes name: loaded at start and kept loaded by poll mode. */
  routeVersions(name: string): Promise<number[]>;
}

/** A model with its served versions, for listings. */
export interface ServedModel {
  name: string;
  source: VersionSource;
  error?: string;
  versions: ServedVersion[];
}

const ALIAS_CACHE_MS = 1000;

export class ModelTable {
  readonly registry: Registry;
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly repos: readonly string[];
  private readonly models = new Map<string, ModelEntry>();
  private readonly aliasCache = new Map<string, { version: number; until: number }>();
  private readonly stats = new Map<string, VersionStatistics>();

  constructor(private readonly options: ModelTableOptions) {
    this.registry = options.registry;
    this.config = options.config;
    this.logger = options.logger;
    this.repos = options.repos;
  }

  /** The entry of a model in the table, if it has one. */
  get(name: string): ModelEntry | undefined {
    return this.models.get(name);
  }

  /** Put (or replace) a model's entry. */
  set(name: string, entry: ModelEntry): void {
    this.models.set(name, entry);
  }

  /** Take a model out of the table (its versions are the caller's to unload). */
  delete(name: string): void {
    this.models.delete(name);
  }

  /** The names of every model in the table. */
  names(): IterableIterator<string> {
    return this.models.keys();
  }

  /** Every entry of the table. */
  entries(): IterableIterator<ModelEntry> {
    return this.models.values();
  }

  /** Drop the cached alias → version answers of a model (its aliases or versions changed). */
  forgetAliases(name: string): void {
    for (const key of this.aliasCache.keys()) if (key.startsWith(`${name}@`)) this.aliasCache.delete(key);
  }

  /** Register every registry model and every repository model (`only`: these names); nothing loads yet. */
  async discover(only: readonly string[] | undefined): Promise<void> {
    for (const entry of await discoverModels(this.registry, this.repos, this.config, this.logger, only)) {
      this.models.set(entry.name, entry);
    }
  }

  /** A table entry for a model found in a repository (versions not loaded). */
  repositoryEntry(rm: RepositoryModel): ModelEntry {
    return repositoryEntry(this.config, rm);
  }

  /** The config of a registry model: the defaults merged with its section of the server config. */
  registryModelConfig(name: string): ModelConfig {
    return registryModelConfig(this.config, name);
  }

  /** The config of a model in the table, else as a registry model would have it. */
  modelConfig(name: string): ModelConfig {
    return this.models.get(name)?.config ?? this.registryModelConfig(name);
  }

  /** Versions pinned by an endpoint's deployment routes. */
  routeVersions(name: string): Promise<number[]> {
    return this.options.routeVersions(name);
  }

  /** Load what each model's version policy asks for (plus aliased and routed registry versions). */
  async loadAll(): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const entry of this.models.values()) {
      if (entry.error !== undefined) {
        this.logger.error({ model: entry.name, err: entry.error }, 'model not served');
        continue;
      }
      for (const v of await this.initialVersions(entry))
        jobs.push(this.ensureVersion(entry, v).then(() => undefined));
    }
    await Promise.all(jobs);
  }

  /** The versions a model serves when it loads: its version policy's pick, plus registry aliases and routes. */
  async initialVersions(entry: ModelEntry): Promise<number[]> {
    const policy = entry.config.version_policy ?? DEFAULT_VERSION_POLICY;
    if (entry.source === 'repository') return selectVersions(policy, [...(entry.onDisk?.keys() ?? [])]);
    // Archived versions are kept, not served.
    const versions = (await this.registry.models.listVersions(entry.name))
      .filter((v) => !v.archived)
      .map((v) => v.version);
    const picked = new Set(selectVersions(policy, versions));
    for (const v of Object.values(await this.registry.models.listAliases(entry.name))) picked.add(v);
    for (const v of await this.options.routeVersions(entry.name)) picked.add(v);
    return [...picked];
  }

  /** The version object, created and loading (or loaded) on return. */
  private async ensureVersion(entry: ModelEntry, version: number): Promise<ServedVersion> {
    let sv = entry.versions.get(version);
    if (!sv) {
      if (entry.unloaded) throw unloadedError(entry.name);
      const created = await this.newVersion(entry, version);
      // Another request may have created it while this one awaited the registry.
      sv = entry.versions.get(version) ?? created;
      entry.versions.set(version, sv);
    }
    if (sv.state === 'LOADING') await this.loadVersion(sv);
    return sv;
  }

  /** A version object for `entry` (not loaded, not in the table yet). */
  async newVersion(entry: ModelEntry, version: number): Promise<ServedVersion> {
    const { limits } = this.config;
    let path: string;
    let guard: () => Promise<Uint8Array | void>;
    if (entry.source === 'repository') {
      const p = entry.onDisk?.get(version);
      if (p === undefined) throw errors.versionNotFound(entry.name, version);
      path = p;
      guard = this.options.guards.repository(`${entry.name}:${version}`, p);
    } else {
      const record = await this.registry.models.getVersion(entry.name, version);
      if (record.archived) {
        throw errors.noServableVersion(
          `model '${entry.name}' version ${version} is archived; unarchive it to serve it`,
        );
      }
      path = this.registry.files.path(record);
      guard = this.options.guards.registry(record);
    }
    const key = `${entry.name}\u0000${version}`;
    let stats = this.stats.get(key);
    if (!stats) {
      stats = new VersionStatistics();
      this.stats.set(key, stats);
    }
    const sv = new ServedVersion(
      entry.name,
      version,
      entry.source,
      path,
      entry.config,
      this.options.metrics.forVersion(entry.name, String(version)),
      stats,
    );
    sv.loadGuard = guard;
    sv.maxNodes = limits.max_model_nodes;
    sv.requestTimeoutMs = limits.request_timeout_ms;
    sv.tensorLimits = {
      maxTensorElements: limits.max_tensor_elements,
      maxBytesElementLength: limits.max_bytes_element_length,
    };
    return sv;
  }

  /** Load (and warm) a version object on the runtime. */
  loadVersion(sv: ServedVersion): Promise<void> {
    return sv.load(this.options.runtime, this.logger);
  }

  /** True when every model that must serve has a ready version. */
  everyModelServes(): boolean {
    for (const entry of this.models.values()) {
      if (entry.unloaded || entry.optional) continue;
      if (entry.error !== undefined) return false;
      if (![...entry.versions.values()].some((v) => v.isReady)) return false;
    }
    return true;
  }

  /**
   * Resolve `NAME`, `NAME@ALIAS` or (`NAME`, version ref) to a version.
   * No version: the highest ready one. A ref is a version number or an alias (registry models).
   */
  async resolve(modelRef: string, versionRef?: string): Promise<ServedVersion> {
    // Before any lookup: a reference over its length limit is refused without reaching the registry.
    checkModelRef(modelRef, versionRef);
    let name = modelRef;
    let ref = versionRef;
    const at = modelRef.indexOf('@');
    if (at >= 0) {
      if (ref !== undefined)
        throw errors.invalidArgument(`give the version either as '${modelRef}' or in the path, not both`);
      name = modelRef.slice(0, at);
      ref = modelRef.slice(at + 1);
      if (ref === '') throw errors.invalidArgument(`empty alias in '${modelRef}'`);
    }
    const entry = await this.entry(name);
    if (entry.error !== undefined)
      throw errors.modelNotReady(`model '${name}' cannot be served: ${entry.error}`);
    if (ref === undefined || ref === '') return this.defaultVersion(entry);
    const number = /^[0-9]+$/.test(ref) ? Number(ref) : undefined;
    if (number !== undefined) {
      if (entry.source === 'repository' && !entry.versions.has(number)) {
        if (entry.onDisk?.has(number)) {
          throw errors.noServableVersion(
            `model '${name}' version ${number} is not loaded (its version_policy leaves it out)`,
          );
        }
        throw errors.versionNotFound(name, number);
      }
      return this.ensureVersion(entry, number);
    }
    if (entry.source === 'repository') throw errors.aliasNotFound(name, ref);
    return this.ensureVersion(entry, await this.aliasVersion(name, ref));
  }

  /**
   * Move an alias with the zero-downtime rule: the version is loaded and warm before the alias
   * points at it; one that cannot serve leaves the alias where it was.
   */
  async moveAlias(
    name: string,
    alias: string,
    version: number,
    actor?: string,
  ): Promise<{ name: string; alias: string; version: number; previous: number | null }> {
    const sv = await this.resolve(name, String(version));
    if (!sv.isReady)
      throw errors.modelLoadFailed(
        `alias '${alias}' not moved: version ${version} cannot serve (${sv.reason || sv.state.toLowerCase()})`,
      );
    const change = await this.registry.models.setAlias(name, alias, version, actor);
    this.forgetAliases(name);
    return { name, alias, version, previous: change.from };
  }

  private async aliasVersion(name: string, alias: string): Promise<number> {
    const key = `${name}@${alias}`;
    const now = Date.now();
    const hit = this.aliasCache.get(key);
    if (hit && hit.until > now) return hit.version;
    const record = await this.registry.models.resolveVersion(name, alias);
    this.aliasCache.set(key, { version: record.version, until: now + ALIAS_CACHE_MS });
    return record.version;
  }

  /** The model's entry; a model pushed to the registry after the server started joins on first use. */
  async entry(name: string): Promise<ModelEntry> {
    const found = this.models.get(name);
    if (found) return found;
    const record = await this.registry.models.get(name);
    const raced = this.models.get(record.name);
    if (raced) return raced;
    const entry: ModelEntry = {
      name: record.name,
      source: 'registry',
      config: this.registryModelConfig(record.name),
      versions: new Map(),
    };
    this.models.set(record.name, entry);
    return entry;
  }

  private async defaultVersion(entry: ModelEntry): Promise<ServedVersion> {
    const best = highestReady(entry);
    if (best) return best;
    if (entry.source === 'registry' && !entry.unloaded) {
      const versions = (await this.registry.models.listVersions(entry.name)).filter((v) => !v.archived);
      const latest = versions.reduce((m, v) => Math.max(m, v.version), 0);
      if (latest > 0) return this.ensureVersion(entry, latest);
    }
    const any = [...entry.versions.values()].sort((a, b) => b.version - a.version)[0];
    if (any) return any; // not ready: the caller's requireBatcher() says why
    throw errors.modelNotReady(`model '${entry.name}' has no version to serve`);
  }

  /** The highest ready version of a model, if any (what its name serves without routes). */
  defaultVersionNumber(model: string): number | undefined {
    const entry = this.models.get(model);
    return entry ? highestReady(entry)?.version : undefined;
  }

  /**
   * Triton's statistics of every served version (of one model, or one version, when given).
   * Versions that exist but have not served yet report zeros.
   */
  async statistics(model?: string, version?: string): Promise<ModelStatistics[]> {
    let entries = [...this.models.values()];
    if (model !== undefined) {
      const sv = await this.resolve(model, version);
      entries = entries.filter((e) => e.name === sv.model);
      if (version !== undefined) return [sv.stats.snapshot(sv.model, String(sv.version))];
    }
    const out: ModelStatistics[] = [];
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      for (const v of [...e.versions.values()].sort((a, b) => a.version - b.version))
        out.push(v.stats.snapshot(v.model, String(v.version)));
    }
    return out;
  }

  /** Every model with its served versions, for listings. */
  listServed(): ServedModel[] {
    return [...this.models.values()].map((e) => ({
      name: e.name,
      source: e.source,
      ...(e.error !== undefined ? { error: e.error } : {}),
      versions: [...e.versions.values()].sort((a, b) => a.version - b.version),
    }));
  }

  /** Requests waiting in each loaded version's batcher (the in-flight gauge of /metrics). */
  *pendingCounts(): Iterable<{ model: string; version: string; pending: number }> {
    for (const entry of this.models.values()) {
      for (const v of entry.versions.values()) {
        if (v.batcher) yield { model: v.model, version: String(v.version), pending: v.batcher.pendingCount };
      }
    }
  }

  /** Unload every version (queued requests finish first). */
  async unloadAll(): Promise<void> {
    const versions = [...this.models.values()].flatMap((e) => [...e.versions.values()]);
    await Promise.all(versions.map((v) => v.unload().catch(() => undefined)));
  }
}
