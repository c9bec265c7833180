/**
 * Repositories served in place, laid out like Triton's: `<repo>/<model>/<version>/model.onnx` with an
 * optional `<repo>/<model>/config.yaml`. Scanning only reads folders and configs; the engine
 * inspects the ONNX files when it loads them.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ModelConfig } from '../core/config.js';
import { loadYamlFile, ModelConfigSchema } from '../core/config.js';
import { errors } from '../core/errors.js';
import { isValidModelName } from './names.js';

export interface RepositoryModel {
  name: string;
  /** Absolute path of the model's folder. */
  dir: string;
  /** Its config.yaml, validated ({} when there is none or it is invalid). */
  config: ModelConfig;
  /** Version folders holding a model.onnx, ascending; `stamp` changes when any file of the folder does. */
  versions: { version: number; path: string; stamp: string }[];
  /** Changes when config.yaml does ('' without one). */
  configStamp: string;
  /** Why the model cannot be served (invalid config.yaml, no version); other models still are. */
  error?: string;
}

export interface RepositoryScan {
  models: RepositoryModel[];
  /** Entries that were skipped, one sentence each. */
  warnings: string[];
}

export const MODEL_FILE = 'model.onnx';
export const CONFIG_FILE = 'config.yaml';

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory(); // follows links: a linked version folder counts
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Size and modification time of a file ('' when missing): poll mode compares these to see changes. */
function fileStamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return '';
  }
}

/** The stamps of every file of a version folder (the model and its external data). */
function folderStamp(dir: string): string {
  try {
    return readdirSync(dir)
      .sort()
      .map((f) => `${f}=${fileStamp(join(dir, f))}`)
      .join(',');
  } catch {
    return '';
  }
}

function scanModel(name: string, dir: string, warnings: string[]): RepositoryModel {
  const configPath = join(dir, CONFIG_FILE);
  const model: RepositoryModel = { name, dir, config: {}, versions: [], configStamp: fileStamp(configPath) };
  if (existsSync(configPath)) {
    try {
      model.config = loadYamlFile(ModelConfigSchema, configPath);
    } catch (err) {
      model.error = (err as Error).message;
    }
  }
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (!isDirectory(path)) {
      if (entry === 'config.pbtxt')
        warnings.push(`${path}: tend reads ${CONFIG_FILE}, not config.pbtxt; ignored`);
      continue;
    }
    if (!/^[1-9][0-9]*$/.test(entry) || !Number.isSafeInteger(Number(entry))) {
      warnings.push(
        `${path}: not a version folder (versions are positive integers without leading zeros); ignored`,
      );
      continue;
    }
    const file = join(path, MODEL_FILE);
    if (!isFile(file)) {
      warnings.push(`${path}: no ${MODEL_FILE} in this version folder; ignored`);
      continue;
    }
    model.versions.push({ version: Number(entry), path: file, stamp: folderStamp(path) });
  }
  model.versions.sort((a, b) => a.version - b.version);
  if (model.versions.length === 0 && model.error === undefined) {
    model.error = `no version to serve: expected ${join(dir, '<version>', MODEL_FILE)}`;
  }
  return model;
}

/**
 * List the models of a repository folder, sorted by name. Invalid entries become warnings; a model
 * with an invalid config.yaml or no version carries an `error` and the others are unaffected.
 * @throws TendError TEND_INVALID_ARGUMENT when `dir` is not a folder.
 */
export function scanRepository(dir: string): RepositoryScan {
  const root = resolve(dir);
  if (!isDirectory(root))
    throw errors.invalidArgument(`model repository ${root} does not exist or is not a folder`);
  const models: RepositoryModel[] = [];
  const warnings: string[] = [];
  for (const entry of readdirSync(root).sort()) {
    if (entry.startsWith('.')) continue;
    const path = join(root, entry);
    if (!isDirectory(path)) {
      warnings.push(`${path}: not a model folder; ignored`);
      continue;
    }
    if (!isValidModelName(entry)) {
      warnings.push(`${path}: '${entry}' is not a valid model name; ignored`);
      continue;
    }
    models.push(scanModel(entry, path, warnings));
  }
  return { models, warnings };
}

/**
 * Scan one model folder of a repository afresh (for an explicit load or reload).
 * Undefined when the repository has no folder of that name.
 */
export function scanRepositoryModel(
  dir: string,
  name: string,
): { model: RepositoryModel; warnings: string[] } | undefined {
  if (!isValidModelName(name)) return undefined;
  const path = join(resolve(dir), name);
  if (!isDirectory(path)) return undefined;
  const warnings: string[] = [];
  return { model: scanModel(name, path, warnings), warnings };
}
