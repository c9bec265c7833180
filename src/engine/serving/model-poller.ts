/**
 * Model control `poll` (Triton's poll mode, TF Serving's file-system watcher): every interval,
 * look at the repositories and the registry and bring the served versions in line with them.
 *
 * Every change follows the zero-downtime rule of explicit loads: new versions load and warm off to
 * the side, then one switch puts them in the table; versions that leave are marked as replaced
 * (requests that already picked them move on to the replacement) and unload after draining. A
 * version that fails to load never takes traffic, the versions serving before keep serving, and it
 * is not tried again until its files change.
 */
import { DEFAULT_VERSION_POLICY } from '../../core/config.js';
import { toTendError, errors } from '../../core/errors.js';
import { scanRepository, type RepositoryModel } from '../../registry/index.js';
import { highestReady, type ModelEntry } from './model-entry.js';
import type { ModelControl } from './model-control.js';
import type { ModelTable } from './model-table.js';
import type { ServedVersion } from './served-version.js';
import { selectVersions } from './version-policy.js';

/** What the poller remembers of a model between two looks. */
interface Seen {
  configStamp?: string;
  error?: string;
  /** Repository version → the stamp of its folder when it was loaded (or failed). */
  stamps: Map<number, string>;
  /** Versions whose last load failed, with the stamp they had then (retried when it changes). */
  failed: Map<number, string>;
  /** Registry models: what the policy and aliases selected at the last look. */
  wanted: Set<number>;
}

export class ModelPoller {
  private readonly seen = new Map<string, Seen>();
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly table: ModelTable,
    private readonly control: ModelControl,
    private readonly intervalMs: number,
  ) {}

  /** Remember what is served now, then look again every interval. */
  async start(): Promise<void> {
    for (const entry of this.table.entries()) {
      if (entry.source === 'registry') {
        this.seenOf(entry.name).wanted = new Set(await this.table.initialVersions(entry).catch(() => []));
      }
    }
    for (const dir of this.table.repos) {
      for (const rm of this.scan(dir)) {
        const entry = this.table.get(rm.name);
        if (entry?.source !== 'repository') continue;
        const seen = this.seenOf(rm.name);
        seen.configStamp = rm.configStamp;
        if (rm.error !== undefined) seen.error = rm.error;
        for (const v of rm.versions) {
          seen.stamps.set(v.version, v.stamp);
          if (entry.versions.get(v.version)?.state === 'UNAVAILABLE') seen.failed.set(v.version, v.stamp);
        }
      }
    }
    this.schedule();
  }

  /** Stop looking; resolves once a look in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }

  /** One look at every source that starts after this call (a look in progress finishes first). */
  async poll(): Promise<void> {
    while (this.current) await this.current;
    const look = this.pollAll().finally(() => {
      if (this.current === look) this.current = undefined;
    });
    this.current = look;
    await look;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.poll().finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private async pollAll(): Promise<void> {
    const onDisk = new Map<string, RepositoryModel>();
    for (const dir of this.table.repos) {
      for (const rm of this.scan(dir)) if (!onDisk.has(rm.name)) onDisk.set(rm.name, rm);
    }
    const inRegistry = new Set<string>();
    try {
      for (const m of await this.table.registry.models.list()) inRegistry.add(m.name);
    } catch (err) {
      this.table.logger.error(
        { err: (err as Error).message },
        'poll: cannot read the registry; registry models left as they are',
      );
      for (const e of this.table.entries()) if (e.source === 'registry') inRegistry.add(e.name);
    }
    const names = new Set([...onDisk.keys(), ...inRegistry, ...this.table.names()]);
    const jobs: Promise<void>[] = [];
    for (const name of names) {
      const job = () => this.syncModel(name, onDisk.get(name), inRegistry.has(name));
      jobs.push(
        this.control.serialized(name, job).catch((err: unknown) => {
          this.table.logger.error({ model: name, err: toTendError(err).message }, 'poll: change not applied');
        }),
      );
    }
    await Promise.all(jobs);
  }

  private scan(dir: string): RepositoryModel[] {
    try {
      return scanRepository(dir).models;
    } catch (err) {
      this.table.logger.warn({ repo: dir, err: (err as Error).message }, 'poll: cannot read repository');
      return [];
    }
  }

  private seenOf(name: string): Seen {
    let seen = this.seen.get(name);
    if (!seen) {
      seen = { stamps: new Map(), failed: new Map(), wanted: new Set() };
      this.seen.set(name, seen);
    }
    return seen;
  }

  private async syncModel(name: string, rm: RepositoryModel | undefined, inRegistry: boolean): Promise<void> {
    const entry = this.table.get(name);
    if (entry?.unloaded) return;
    if (entry?.source === 'registry' || (!entry && inRegistry)) {
      if (inRegistry) await this.syncRegistryModel(name, entry);
      else if (entry) await this.remove(entry, 'removed from the registry');
      return;
    }
    if (rm) await this.syncRepositoryModel(rm, entry);
    else if (entry) await this.remove(entry, 'its folder left the repository');
  }

  private async remove(entry: ModelEntry, why: string): Promise<void> {
    this.table.delete(entry.name);
    this.seen.delete(entry.name);
    this.table.forgetAliases(entry.name);
    await Promise.all([...entry.versions.values()].map((sv) => sv.unload().catch(() => undefined)));
    this.table.logger.info({ model: entry.name }, `poll: model unloaded (${why})`);
  }

  private async syncRepositoryModel(rm: RepositoryModel, entry: ModelEntry | undefined): Promise<void> {
    const seen = this.seenOf(rm.name);
    const configChanged =
      entry !== undefined && (seen.configStamp !== rm.configStamp || seen.error !== rm.error);
    seen.configStamp = rm.configStamp;
    if (rm.error === undefined) delete seen.error;
    else seen.error = rm.error;
    if (!entry || configChanged || entry.error !== undefined) {
      // A new model, a changed config.yaml or a model that could not be served: load it whole.
      if (rm.error !== undefined && entry?.error === rm.error) return;
      for (const v of rm.versions) seen.stamps.set(v.version, v.stamp);
      seen.failed.clear();
      try {
        await this.control.reloadNow(rm.name);
      } catch (err) {
        const e = toTendError(err);
        for (const sv of this.table.get(rm.name)?.versions.values() ?? []) {
          if (sv.state === 'UNAVAILABLE') seen.failed.set(sv.version, seen.stamps.get(sv.version) ?? '');
        }
        throw e;
      }
      return;
    }
    const fresh = this.table.repositoryEntry(rm);
    const wanted = selectVersions(entry.config.version_policy ?? DEFAULT_VERSION_POLICY, [
      ...(fresh.onDisk?.keys() ?? []),
    ]);
    const stampOf = new Map(rm.versions.map((v) => [v.version, v.stamp]));
    const toLoad = wanted.filter((v) => {
      const stamp = stampOf.get(v) ?? '';
      if (seen.failed.get(v) === stamp) return false;
      const sv = entry.versions.get(v);
      return !sv || sv.state === 'UNAVAILABLE' || seen.stamps.get(v) !== stamp;
    });
    const toDrop = [...entry.versions.keys()].filter((v) => !wanted.includes(v));
    entry.onDisk = fresh.onDisk ?? new Map();
    for (const v of toLoad) seen.stamps.set(v, stampOf.get(v) ?? '');
    await this.apply(entry, wanted, toLoad, toDrop, seen);
  }

  private async syncRegistryModel(name: string, existing: ModelEntry | undefined): Promise<void> {
    const entry: ModelEntry = existing ?? {
      name,
      source: 'registry',
      config: this.table.registryModelConfig(name),
      versions: new Map(),
    };
    const seen = this.seenOf(name);
    const live = new Set(
      (await this.table.registry.models.listVersions(name)).filter((v) => !v.archived).map((v) => v.version),
    );
    const wanted = new Set((await this.table.initialVersions(entry)).filter((v) => live.has(v)));
    const pinned = new Set([...wanted, ...(await this.table.routeVersions(name))]);
    const toLoad = [...wanted].filter((v) => {
      if (seen.failed.has(v)) return false; // registry files never change: a failed version stays failed
      const sv = entry.versions.get(v);
      return !sv || sv.state === 'UNAVAILABLE';
    });
    // Versions loaded on demand stay until they are archived or deleted; those the policy picked
    // before and no longer does (a newer one arrived) leave, unless an alias or a route needs them.
    const toDrop = [...entry.versions.keys()].filter(
      (v) => !pinned.has(v) && (!live.has(v) || seen.wanted.has(v)),
    );
    seen.wanted = wanted;
    // A new model joins the table only with something to load: an entry without versions would
    // count against readiness.
    if (!existing) {
      if (toLoad.length === 0) return;
      this.table.set(name, this.table.get(name) ?? entry);
      if (this.table.get(name) !== entry) return; // a request created it meanwhile: the next look syncs it
    }
    await this.apply(entry, [...wanted], toLoad, toDrop, seen);
  }

  /**
   * Load `toLoad` off to the side; once they are warm, switch them in and drop `toDrop` — only when
   * every `wanted` version serves: until then the versions serving before keep serving.
   */
  private async apply(
    entry: ModelEntry,
    wanted: readonly number[],
    toLoad: number[],
    toDrop: number[],
    seen: Seen,
  ): Promise<void> {
    if (toLoad.length === 0 && toDrop.length === 0) return;
    const created = await Promise.all(toLoad.map((v) => this.table.newVersion(entry, v)));
    // A version number not in the table yet goes in at once, loading: it is not the default until
    // ready, and a request for it by number waits for it instead of loading a second copy.
    for (const sv of created) if (!entry.versions.has(sv.version)) entry.versions.set(sv.version, sv);
    await Promise.all(created.map((sv) => this.table.loadVersion(sv)));
    const failed: ServedVersion[] = [];
    for (const sv of created) {
      const old = entry.versions.get(sv.version);
      if (!sv.isReady) {
        failed.push(sv);
        seen.failed.set(sv.version, seen.stamps.get(sv.version) ?? '');
        if (!old?.isReady) entry.versions.set(sv.version, sv); // shown in the index with its reason
        continue;
      }
      seen.failed.delete(sv.version);
      entry.versions.set(sv.version, sv);
      if (old && old !== sv) {
        old.replacedBy = sv;
        void old.unload().catch(() => undefined);
      }
    }
    const dropped: number[] = [];
    if (wanted.every((v) => entry.versions.get(v)?.isReady)) {
      for (const v of toDrop) {
        const old = entry.versions.get(v);
        if (!old) continue;
        entry.versions.delete(v);
        dropped.push(v);
        old.replacedBy = highestReady(entry);
        void old.unload().catch(() => undefined);
      }
    }
    if (entry.versions.size > 0 && !highestReady(entry) && failed.length > 0) entry.optional = true;
    this.table.forgetAliases(entry.name);
    const loaded = created.filter((sv) => sv.isReady).map((sv) => sv.version);
    if (loaded.length > 0 || dropped.length > 0)
      this.table.logger.info({ model: entry.name, loaded, unloaded: dropped }, 'poll: versions changed');
    if (failed.length > 0) {
      const why = failed.map((sv) => `version ${sv.version}: ${sv.reason}`).join('; ');
      throw errors.modelLoadFailed(
        `poll: model '${entry.name}' not changed (${why}); the versions serving before keep serving`,
      );
    }
  }
}
