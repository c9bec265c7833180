/**
 * External data: tensors whose bytes live in files beside the `.onnx` file. A model names those
 * files itself, so a model from an untrusted source could point at `/etc/passwd` or `../secrets`;
 * every location is checked to stay inside the model's folder before anything reads it.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, posix, relative, resolve, sep, win32 } from 'node:path';
import type { GraphProto, ModelProto, NodeProto, SparseTensorProto, TensorProto } from 'onnx-buf';
import { TensorProto_DataLocation } from 'onnx-buf';
import { errors } from '../core/errors.js';
import { readModel, readModelFile } from './model.js';
import { extractModelInfo } from './signature.js';
import type { ModelInfo } from './signature.js';

/** One tensor that keeps its data in an external file, as the model declares it. */
export interface ExternalDataRef {
  tensor: string;
  /** The `location` entry, relative to the model's folder. */
  location: string;
  offset?: number;
  length?: number;
}

export interface ExternalDataCheckOptions {
  /** Also fail when a referenced file does not exist (default false: only the locations are checked). */
  requireFiles?: boolean;
}

function* sparseTensors(sparse: SparseTensorProto): Generator<TensorProto> {
  if (sparse.values) yield sparse.values;
  if (sparse.indices) yield sparse.indices;
}

function* nodeTensors(node: NodeProto): Generator<TensorProto> {
  for (const attr of node.attribute) {
    if (attr.t) yield attr.t;
    yield* attr.tensors;
    if (attr.sparseTensor) yield* sparseTensors(attr.sparseTensor);
    for (const s of attr.sparseTensors) yield* sparseTensors(s);
    // Subgraphs of If / Loop / Scan carry their own initializers.
    if (attr.g) yield* graphTensors(attr.g);
    for (const g of attr.graphs) yield* graphTensors(g);
  }
}

function* graphTensors(graph: GraphProto): Generator<TensorProto> {
  yield* graph.initializer;
  for (const s of graph.sparseInitializer) yield* sparseTensors(s);
  for (const node of graph.node) yield* nodeTensors(node);
}

/** Every tensor stored in a model: initializers, node attributes, subgraphs, functions, training graphs. */
export function* modelTensors(model: ModelProto): Generator<TensorProto> {
  if (model.graph) yield* graphTensors(model.graph);
  for (const fn of model.functions) for (const node of fn.node) yield* nodeTensors(node);
  for (const info of model.trainingInfo) {
    if (info.initialization) yield* graphTensors(info.initialization);
    if (info.algorithm) yield* graphTensors(info.algorithm);
  }
}

function byteCount(tensor: TensorProto, key: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) {
    throw errors.invalidModel(`external data of tensor '${tensor.name}' has an invalid ${key} '${raw}'`);
  }
  return Number(raw);
}

/**
 * The external data references of a model, unchecked.
 * @throws TendError TEND_INVALID_MODEL when an external tensor has no location or a malformed offset/length.
 */
export function externalDataRefs(model: ModelProto): ExternalDataRef[] {
  const refs: ExternalDataRef[] = [];
  for (const tensor of modelTensors(model)) {
    if (tensor.dataLocation !== TensorProto_DataLocation.EXTERNAL) continue;
    const entries = new Map(tensor.externalData.map((e) => [e.key, e.value]));
    const location = entries.get('location');
    if (location === undefined || location === '') {
      throw errors.invalidModel(`tensor '${tensor.name}' is stored externally but names no location`);
    }
    const ref: ExternalDataRef = { tensor: tensor.name, location };
    const offset = byteCount(tensor, 'offset', entries.get('offset'));
    const length = byteCount(tensor, 'length', entries.get('length'));
    if (offset !== undefined) ref.offset = offset;
    if (length !== undefined) ref.length = length;
    refs.push(ref);
  }
  return refs;
}

function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function resolveLocation(
  ref: ExternalDataRef,
  folder: string,
  realFolder: string,
  requireFile: boolean,
): string {
  const { tensor, location } = ref;
  const outside = (why: string) =>
    errors.invalidModel(
      `external data '${location}' of tensor '${tensor}' ${why}; it must be a file inside the model's folder`,
    );
  if (location.includes('\0')) throw outside('contains a NUL character');
  if (posix.isAbsolute(location) || win32.isAbsolute(location)) throw outside('is an absolute path');
  // Windows readers treat a backslash as a separator, so `..\x` escapes there: judge it the same here.
  const target = resolve(folder, location.replaceAll('\\', '/'));
  if (!isInside(folder, target)) throw outside('points outside the model folder');

  try {
    lstatSync(target);
  } catch {
    if (requireFile) throw errors.invalidModel(`external data '${location}' of tensor '${tensor}' not found`);
    return target;
  }
  let real: string;
  try {
    real = realpathSync(target);
  } catch (err) {
    throw errors.invalidModel(`external data '${location}' of tensor '${tensor}' is a broken link`, err);
  }
  if (!isInside(realFolder, real)) throw outside('is a link that leads outside the model folder');
  if (!statSync(real).isFile()) throw outside('is not a regular file');
  return target;
}

/**
 * Check every external data location of a model and return the files, as absolute paths inside
 * `modelDir` (each once, in order of first use).
 * @throws TendError TEND_INVALID_MODEL when a location is absolute, escapes `modelDir` (with `..` or
 * through a symbolic link), or, with `requireFiles`, names a missing file.
 */
export function checkExternalData(
  model: ModelProto,
  modelDir: string,
  options: ExternalDataCheckOptions = {},
): string[] {
  const folder = resolve(modelDir);
  const realFolder = realpathOr(folder);
  const files = new Set<string>();
  for (const ref of externalDataRefs(model)) {
    files.add(resolveLocation(ref, folder, realFolder, options.requireFiles ?? false));
  }
  return [...files];
}

/**
 * Read an `.onnx` file, check its external data (which must exist, inside the file's folder) and
 * describe it.
 * @throws TendError TEND_INVALID_MODEL when the file is unreadable, not ONNX, or its external data is
 * unsafe or missing.
 */
export function inspectModelFile(path: string): ModelInfo & { external_data: string[]; node_count: number } {
  const model = readModelFile(path);
  const external_data = checkExternalData(model, dirname(resolve(path)), { requireFiles: true });
  return { ...extractModelInfo(model), external_data, node_count: countNodes(model.graph?.node ?? []) };
}

/**
 * Describe a model held in memory (a decrypted registry file): like inspectModelFile, but external
 * data locations are listed as written, not checked, as there is no folder to resolve them in.
 * @throws TendError TEND_INVALID_MODEL when the bytes are not ONNX.
 */
export function inspectModelBytes(
  bytes: Uint8Array,
): ModelInfo & { external_data: string[]; node_count: number } {
  const model = readModel(bytes);
  const external_data = [...new Set(externalDataRefs(model).map((ref) => ref.location))];
  return { ...extractModelInfo(model), external_data, node_count: countNodes(model.graph?.node ?? []) };
}

/** Nodes of the graph, subgraphs (If, Loop, Scan bodies) included. */
function countNodes(
  nodes: readonly {
    attribute: readonly {
      g?: { node: readonly unknown[] } | undefined;
      graphs: readonly { node: readonly unknown[] }[];
    }[];
  }[],
): number {
  let count = nodes.length;
  for (const node of nodes) {
    for (const attribute of node.attribute) {
      if (attribute.g !== undefined)
        count += countNodes(attribute.g.node as Parameters<typeof countNodes>[0]);
      for (const graph of attribute.graphs)
        count += countNodes(graph.node as Parameters<typeof countNodes>[0]);
    }
  }
  return count;
}
