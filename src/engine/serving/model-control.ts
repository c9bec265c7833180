/**
 * Model control, Triton's repository extension: the index of every model the server knows, and
 * explicit load / reload / unload of one model at a time with a swap that never drops a request.
 * It changes the model table it is given; ModelPoller (poll mode) applies its changes through `serialized`.
 */
import { errors } from '../../core/errors.js';
import { scanRepository, scanRepositoryModel } from '../../registry/index.js';
import { highestReady, type ModelEntry } from './model-entry.js';
import type { ModelTable } from './model-table.js';

/** One row of the repository index (Triton's `POST /v2/repository/index`). */
export interface RepositoryIndexEntry {
  name: string;
  version: string;
  state: string;
  reason: string;
}

function servingNote(current: ModelEntry | undefined): string {
  const serving = current
    ? [...current.versions.values()].filter((v) => v.isReady).map((v) => v.version)
    : [];
  return serving.length > 0 ? `; version ${serving.join(', ')} keeps serving` : '';
}

export class ModelControl {
  private readonly controls = new Map<string, Promise<void>>();

  constructor(private readonly table: ModelTable) {}

  /** The repository index: every model the server knows (registry, repositories on disk) with its versions' states. */
  async index(options: { readyOnly?: boolean } = {}): Promise<RepositoryIndexEntry[]> {
    const names = new Set(this.table.names());
    for (const m of await this.table.registry.models.list()) names.add(m.name);
    for (const dir of this.table.repos) {
      try {
        for (const m of scanRepository(dir).models) names.add(m.name);
      } catch {
        // a repository folder removed while serving: its models are still listed from the table
      }
    }
    const rows: RepositoryIndexEntry[] = [];
    for (const name of [...names].sort()) {
      const entry = this.table.get(name);
      const versions = entry ? [...entry.versions.values()].sort((a, b) => a.version - b.version) : [];
      if (versions.length === 0) {
        const reason = entry?.error ?? (entry?.unloaded ? 'unloaded' : 'not loaded');
        rows.push({ name, version: '', state: 'UNAVAILABLE', reason });
        continue;
      }
      for (const v of versions)
        rows.push({ name, version: String(v.version), state: v.state, reason: v.reason });
    }
    return options.readyOnly ? rows.filter((r) => r.state === 'READY') : rows;
  }

  /** Load or reload (see Engine.loadModel): new versions load and warm first, then one switch. */
  load(name: string): Promise<void> {
    this.requireModelControl('load');
    return this.serialized(name, () => this.doLoad(name));
  }

  /** Unload every version (queued requests finish first). */
  unload(name: string): Promise<void> {
    this.requireModelControl('unload');
    return this.serialized(name, async () => {
      let entry = this.table.get(name);
      if (!entry) {
        // A model on disk that was never loaded: nothing to do (as Triton).
        if (this.table.repos.some((dir) => scanRepositoryModel(dir, name) !== undefined)) return;
        entry = await this.table.entry(name);
      }
      entry.unloaded = true;
      await Promise.all([...entry.versions.values()].map((v) => v.unload()));
      this.table.logger.info({ model: name }, 'model unloaded');
    });
  }

  private requireModelControl(action: string): void {
    const mode = this.table.config.model_control_mode;
    if (mode === 'none') {
      throw errors.forbidden(
        `cannot ${action} models: the server runs with --model-control none (the set of models is fixed at start)`,
      );
    }
    if (mode === 'poll') {
      throw errors.forbidden(
        `cannot ${action} models: the server runs with --model-control poll (changes in the repositories and the registry are applied automatically)`,
      );
    }
  }

  /** Reload a model now, inside a job of `serialized` (poll mode: its config changed on disk). */
  reloadNow(name: string): Promise<void> {
    return this.doLoad(name);
  }

  /** Loads, unloads and poll changes of one model run one after another. */
  serialized<T>(name: string, job: () => Promise<T>): Promise<T> {
    const previous = this.controls.get(name) ?? Promise.resolve();
    const next = previous.then(job, job);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.controls.set(name, settled);
    void settled.then(() => {
      if (this.controls.get(name) === settled) this.controls.delete(name);
    });
    return next;
  }

  private async doLoad(name: string): Promise<void> {
    const current = this.table.get(name);
    const fresh = await this.freshEntry(name, current);
    if (fresh.error !== undefined) {
      if (!current) this.table.set(name, { ...fresh, optional: true });
      throw errors.modelLoadFailed(`model '${name}' cannot be loaded: ${fresh.error}${servingNote(current)}`);
    }
    const wanted = await this.table.initialVersions(fresh);
    if (wanted.length === 0)
      throw errors.modelLoadFailed(
        `model '${name}' has no version that its version_policy selects${servingNote(current)}`,
      );
    const loaded = await Promise.all(wanted.map((v) => this.table.newVersion(fresh, v)));
    await Promise.all(loaded.map((sv) => this.table.loadVersion(sv)));
    const failed = loaded.filter((sv) => !sv.isReady);
    if (failed.length > 0) {
      await Promise.all(loaded.map((sv) => sv.unload().catch(() => undefined)));
      if (!current) {
        for (const sv of failed) fresh.versions.set(sv.version, sv);
        this.table.set(name, { ...fresh, optional: true });
      }
      const why = failed.map((sv) => `version ${sv.version}: ${sv.reason}`).join('; ');
      throw errors.modelLoadFailed(`failed to load model '${name}' (${why})${servingNote(current)}`);
    }
    for (const sv of loaded) fresh.versions.set(sv.version, sv);
    const old = current ? [...current.versions.values()] : [];
    this.table.set(name, fresh);
    this.table.forgetAliases(name);
    for (const sv of old) sv.replacedBy = fresh.versions.get(sv.version) ?? highestReady(fresh);
    await Promise.all(old.map((sv) => sv.unload().catch(() => undefined)));
    this.table.logger.info({ model: name, versions: wanted }, current ? 'model reloaded' : 'model loaded');
  }

  /** The model's entry as it is now on disk or in the registry (versions not loaded). */
  private async freshEntry(name: string, current: ModelEntry | undefined): Promise<ModelEntry> {
    if (current?.source !== 'registry') {
      for (const dir of this.table.repos) {
        const found = scanRepositoryModel(dir, name);
        if (!found) continue;
        for (const w of found.warnings) this.table.logger.warn({ repo: dir }, w);
        return this.table.repositoryEntry(found.model);
      }
      if (current?.source === 'repository') throw errors.modelNotFound(name);
    }
    const record = await this.table.registry.models.get(name);
    return {
      name: record.name,
      source: 'registry',
      config: this.table.registryModelConfig(record.name),
      versions: new Map(),
    };
  }
}
