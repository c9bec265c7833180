/**
 * The registry as a script sees it: open a home, push ONNX files, list models and versions, move
 * aliases, close. A thin wrapper over the registry facade so that the facade's own shape (sub-facades
 * for models, deployments, runs…) can change without changing the library's.
 */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { Registry as RegistryFacade, type ModelRecord, type VersionRecord } from '../registry/index.js';

/** How `Registry.open` opens a home. */
export interface RegistryOpenOptions {
  /** Who pushes and moves aliases in the audit log (default: `$TEND_ACTOR`, else the OS user). */
  actor?: string;
}

/** What `push` records with a new version. */
export interface PushModelOptions {
  /** The model's name (created on its first version). */
  name: string;
  /** Aliases moved to the new version, e.g. `['production']`. */
  aliases?: string[];
  /** Version tags. */
  tags?: Record<string, string>;
  /** Sets the model's description. */
  description?: string;
}

/** The new version `push` registered. */
export interface PushedVersion {
  name: string;
  version: number;
  sha256: string;
  size_bytes: number;
}

/** A model of the registry: name, description, tags, aliases, latest version. */
export type ModelSummary = ModelRecord;
/** One version of a model: file hash and size, signature, lineage, aliases. */
export type ModelVersion = VersionRecord;

/** The registry home: the given path, else `$TEND_HOME`, else `./.tend` (as the CLI's `--home`). */
export function resolveHomeDir(home?: string): string {
  return resolve(home ?? process.env['TEND_HOME'] ?? '.tend');
}

function defaultActor(): string {
  try {
    return process.env['TEND_ACTOR'] ?? userInfo().username;
  } catch {
    return 'unknown';
  }
}

const facades = new WeakMap<Registry, RegistryFacade>();

/** The facade behind a library registry, for the library's own jobs (train, optimize); not exported by the package. */
export function facadeOf(registry: Registry): RegistryFacade {
  const facade = facades.get(registry);
  if (!facade) throw new TypeError('not a registry opened with Registry.open');
  return facade;
}

/**
 * A tend model registry: `<home>/registry.db` plus content-addressed model files in `<home>/models/`.
 * @example
 * const registry = await Registry.open('./.tend');
 * try {
 *   const { version } = await registry.push('model.onnx', { name: 'digits', aliases: ['production'] });
 *   console.log(version, await registry.listModels());
 * } finally {
 *   await registry.close();
 * }
 */
export class Registry {
  /** The absolute path of the home. */
  readonly home: string;
  /** Who the audit log names for what this registry changes. */
  readonly actor: string;

  private constructor(facade: RegistryFacade, home: string, actor: string) {
    facades.set(this, facade);
    this.home = home;
    this.actor = actor;
  }

  /** Open (creating when missing) the registry of a home; default home as `resolveHomeDir`. */
  static async open(home?: string, options: RegistryOpenOptions = {}): Promise<Registry> {
    const dir = resolveHomeDir(home);
    const actor = options.actor ?? defaultActor();
    return new Registry(await RegistryFacade.open(dir, { actor }), dir, actor);
  }

  /** Register an ONNX file as the next version of a model (the file is copied into the home). */
  push(file: string, options: PushModelOptions): Promise<PushedVersion> {
    const path = resolve(file);
    return facadeOf(this)
      .models.push(path, {
        name: options.name,
        ...(options.aliases !== undefined ? { aliases: options.aliases } : {}),
        ...(options.tags !== undefined ? { tags: options.tags } : {}),
        ...(options.description !== undefined ? { description: options.description } : {}),
        createdBy: this.actor,
        source: path,
      })
      .then(({ name, version, sha256, size_bytes }) => ({ name, version, sha256, size_bytes }));
  }

  /** Every model, by name. */
  listModels(): Promise<ModelSummary[]> {
    return facadeOf(this).models.list();
  }

  /** The versions of a model, oldest first. */
  listVersions(name: string): Promise<ModelVersion[]> {
    return facadeOf(this).models.listVersions(name);
  }

  /** One version by number (`'3'`), alias (`'production'`) or `'latest'` (the default). */
  getVersion(name: string, ref = 'latest'): Promise<ModelVersion> {
    return facadeOf(this).models.resolveVersion(name, ref);
  }

  /** Point an alias at a version; returns the version it pointed at before (null: new alias). */
  async setAlias(name: string, alias: string, version: number): Promise<number | null> {
    return (await facadeOf(this).models.setAlias(name, alias, version, this.actor)).from;
  }

  /** Close the database. The registry is unusable afterwards. */
  close(): Promise<void> {
    return facadeOf(this).close();
  }
}
