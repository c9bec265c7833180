/**
 * The one table of limits on strings (and counts of named things) a client sends: request ids,
 * tensor names, datatypes, parameters, model and version references, routing keys, and the string
 * fields of management bodies. Without them a 1,000,000-character request id is accepted, echoed in
 * the answer and stored as the prediction log's key.
 *
 * The checks run on the request path, so they are length comparisons: a string's UTF-16 length
 * bounds its UTF-8 size from below (1 byte per unit at least) and from above (3 bytes per unit at
 * most), so bytes are counted only for strings within a factor of 3 of the limit — and even then
 * without allocating. Regular expressions (the registry's name rules) stay off this path.
 */
import { errors, type TendError } from './errors.js';

/** Bytes (UTF-8) of the request `id`: it is echoed in the answer and keys the prediction log. */
export const MAX_REQUEST_ID_BYTES = 256;
/** Bytes of an input or output name (ONNX names longer than this are not seen in practice). */
export const MAX_TENSOR_NAME_BYTES = 512;
/** Inputs in one request, and outputs one request may ask for. */
export const MAX_TENSORS_PER_REQUEST = 1024;
/** Bytes of a datatype string (`UINT64`, the longest V2 datatype, has 6). */
export const MAX_DATATYPE_BYTES = 16;
/** Entries of one `parameters` object (of the request, of an input, of an output). */
export const MAX_PARAMETERS = 64;
/** Bytes of a parameter key. */
export const MAX_PARAMETER_KEY_BYTES = 256;
/** Bytes of a parameter's string value. */
export const MAX_PARAMETER_VALUE_BYTES = 1024;
/** Characters of a model name: the registry's rule (names.ts), 1-128 of [A-Za-z0-9_.-]. */
export const MAX_MODEL_NAME_LENGTH = 128;
/** Characters of an alias name (names.ts); a version reference is a number, `latest` or an alias. */
export const MAX_ALIAS_LENGTH = 64;
/** Bytes of a version reference in a URL or message: a number, `latest` or an alias. */
export const MAX_VERSION_REF_BYTES = MAX_ALIAS_LENGTH;
/** Bytes of the value of an experiment's sticky header (gRPC metadata or HTTP header): the routing key. */
export const MAX_ROUTING_KEY_BYTES = 256;
/** Bytes of an HTTP header name an experiment routes by (`sticky_by`). */
export const MAX_HEADER_NAME_BYTES = 256;
/** Bytes of a free-text reason stored with a management change (deployment history). */
export const MAX_REASON_BYTES = 1024;
/** Characters of a token's name (the registry's rule: 1-64 of [A-Za-z0-9._-]). */
export const MAX_TOKEN_NAME_LENGTH = 64;
/** Model globs on one token. */
export const MAX_MODEL_GLOBS = 64;
/** Bytes of a class label sent as a string in feedback. */
export const MAX_LABEL_BYTES = 1024;

/**
 * True when `value` takes more than `limitBytes` bytes in UTF-8. Length comparisons only, except
 * for strings between limit/3 and limit UTF-16 units, which are counted without allocating.
 */
export function isOverBytes(value: string, limitBytes: number): boolean {
  const units = value.length;
  if (units > limitBytes) return true;
  if (units * 3 <= limitBytes) return false;
  return Buffer.byteLength(value, 'utf8') > limitBytes;
}

/**
 * The error for a string over its limit, naming the field, its size and the limit.
 * @example tooLong('request id', id, MAX_REQUEST_ID_BYTES) // "request id is 1000000 bytes; the limit is 256"
 */
export function tooLong(what: string, value: string, limitBytes: number): TendError {
  return errors.invalidInput(
    `${what} is ${Buffer.byteLength(value, 'utf8')} bytes; the limit is ${limitBytes}`,
  );
}

/** The error for too many named things (`what`: a plural noun phrase such as "inputs"). */
export function tooMany(what: string, count: number, limit: number): TendError {
  return errors.invalidInput(`the request has ${count} ${what}; the limit is ${limit}`);
}

/** @throws TendError TEND_INVALID_INPUT when `value` is over `limitBytes` (`what` names the field). */
export function checkBytes(what: string, value: string, limitBytes: number): void {
  if (isOverBytes(value, limitBytes)) throw tooLong(what, value, limitBytes);
}

/** @throws TendError TEND_INVALID_INPUT for a request id over MAX_REQUEST_ID_BYTES. */
export function checkRequestId(id: string): void {
  if (isOverBytes(id, MAX_REQUEST_ID_BYTES)) throw tooLong('request id', id, MAX_REQUEST_ID_BYTES);
}

/**
 * Model reference (`NAME` or `NAME@ALIAS`) and version reference from a URL or a message, before
 * anything looks them up. Only lengths: the registry's rules decide what a valid name is.
 * @throws TendError TEND_INVALID_INPUT when the name or the version is over its limit.
 */
export function checkModelRef(modelRef: string, versionRef: string | undefined): void {
  const at = modelRef.indexOf('@');
  if (at < 0) {
    if (isOverBytes(modelRef, MAX_MODEL_NAME_LENGTH))
      throw tooLong('model name', modelRef, MAX_MODEL_NAME_LENGTH);
  } else {
    const name = modelRef.slice(0, at);
    if (isOverBytes(name, MAX_MODEL_NAME_LENGTH)) throw tooLong('model name', name, MAX_MODEL_NAME_LENGTH);
    const alias = modelRef.slice(at + 1);
    if (isOverBytes(alias, MAX_VERSION_REF_BYTES))
      throw tooLong('model version', alias, MAX_VERSION_REF_BYTES);
  }
  if (versionRef !== undefined && isOverBytes(versionRef, MAX_VERSION_REF_BYTES)) {
    throw tooLong('model version', versionRef, MAX_VERSION_REF_BYTES);
  }
}

/**
 * Keys of a `parameters` object that a message is about to list (unsupported ones, say): at most
 * MAX_PARAMETERS, each within MAX_PARAMETER_KEY_BYTES, so the message stays short.
 * @throws TendError TEND_INVALID_INPUT naming `place` (e.g. "parameters") and the limit.
 */
/** Whose `parameters` a map is: the request's, or those of inputs[i] / outputs[i]. */
export type ParameterOwner = 'request' | 'inputs' | 'outputs';

/** Where a parameters map sits, for messages (built only when one is refused). */
function parametersPlace(owner: ParameterOwner, index: number): string {
  return owner === 'request' ? 'parameters' : `${owner}[${index}].parameters`;
}

/**
 * The limits on the parameters map of a request, an input or an output, HTTP and gRPC alike:
 * entries, key sizes, and the size of string values, which `stringOf` reads from a value
 * (undefined when the value is not a string).
 */
export function checkParameters<V>(
  params: Record<string, V>,
  owner: ParameterOwner,
  index: number,
  stringOf: (value: V) => string | undefined,
): void {
  let count = 0;
  for (const key in params) {
    if (++count > MAX_PARAMETERS) {
      throw errors.invalidInput(
        `${parametersPlace(owner, index)} has ${Object.keys(params).length} entries; the limit is ${MAX_PARAMETERS}`,
      );
    }
    if (isOverBytes(key, MAX_PARAMETER_KEY_BYTES))
      throw tooLong(`a key of ${parametersPlace(owner, index)}`, key, MAX_PARAMETER_KEY_BYTES);
    const value = stringOf(params[key] as V);
    if (value !== undefined && isOverBytes(value, MAX_PARAMETER_VALUE_BYTES)) {
      throw tooLong(`${parametersPlace(owner, index)}.${key}`, value, MAX_PARAMETER_VALUE_BYTES);
    }
  }
}

export function checkParameterKeys(place: string, keys: readonly string[]): void {
  if (keys.length > MAX_PARAMETERS)
    throw errors.invalidInput(`${place} has ${keys.length} entries; the limit is ${MAX_PARAMETERS}`);
  for (const key of keys) {
    if (isOverBytes(key, MAX_PARAMETER_KEY_BYTES))
      throw tooLong(`a key of ${place}`, key, MAX_PARAMETER_KEY_BYTES);
  }
}
