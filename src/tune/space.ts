/**
 * The search space of a study: a mapping from parameter name to its spec, read from YAML or JSON and
 * checked whole before any trial runs (an invalid file is one clear error, never a failed trial).
 *
 *   lr:         {type: float, low: 1e-4, high: 1e-1, log: true}
 *   batch_size: {type: int, low: 16, high: 256, step: 16}
 *   optimizer:  {type: categorical, choices: [adam, sgd]}
 *   momentum:   {type: float, low: 0.5, high: 0.99, when: {optimizer: sgd}}
 *
 * A parameter with `when` is active only when every named parameter is active and has the given value
 * (or one of the values, when a list is given). Parameters come back ordered so that a condition's
 * parameters precede the parameters that depend on them.
 */
import { parse as parseYaml } from 'yaml';
import { errors } from '../core/errors.js';

/** A parameter's value: numbers for float and int, any scalar for a categorical choice. */
export type ParamValue = number | string | boolean;

/** Parameter values of one trial, by name (only the active parameters). */
export type Params = Record<string, ParamValue>;

interface ParamBase {
  name: string;
  /** Parameter → accepted values; null when the parameter is always active. */
  when: Readonly<Record<string, readonly ParamValue[]>> | null;
}

export interface FloatParam extends ParamBase {
  type: 'float';
  low: number;
  high: number;
  log: boolean;
}

export interface IntParam extends ParamBase {
  type: 'int';
  low: number;
  high: number;
  step: number;
  log: boolean;
}

export interface CategoricalParam extends ParamBase {
  type: 'categorical';
  choices: readonly ParamValue[];
}

export type ParamSpec = FloatParam | IntParam | CategoricalParam;

export interface SearchSpace {
  /** Conditions before the parameters that depend on them; otherwise in file order. */
  readonly params: readonly ParamSpec[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const KEYS: Record<ParamSpec['type'], readonly string[]> = {
  float: ['type', 'low', 'high', 'log', 'when'],
  int: ['type', 'low', 'high', 'step', 'log', 'when'],
  categorical: ['type', 'choices', 'when'],
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is ParamValue {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/**
 * Read a space from the text of a YAML or JSON file; `source` names it in errors.
 * @throws TendError TEND_INVALID_ARGUMENT
 */
export function parseSpaceText(text: string, source = 'search space'): SearchSpace {
  let data: unknown;
  try {
    data = text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw errors.invalidArgument(
      `${source} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  return parseSpace(data, source);
}

/** Check a parsed space (an object of parameter specs). @throws TendError TEND_INVALID_ARGUMENT */
export function parseSpace(data: unknown, source = 'search space'): SearchSpace {
  if (!isObject(data) || Object.keys(data).length === 0) {
    throw errors.invalidArgument(
      `${source} must be a mapping from parameter name to its spec, e.g. {lr: {type: float, low: 0.0001, high: 0.1, log: true}}`,
    );
  }
  const specs = Object.entries(data).map(([name, raw]) => parseParam(name, raw, source));
  const byName = new Map(specs.map((p) => [p.name, p]));
  for (const spec of specs) checkCondition(spec, byName, source);
  return { params: dependencyOrder(specs, source) };
}

function parseParam(name: string, raw: unknown, source: string): ParamSpec {
  const where = `${source}: parameter '${name}'`;
  if (!NAME.test(name))
    throw errors.invalidArgument(
      `${where}: names are letters, digits, '_', '.', '-' (at most 64), starting with a letter or '_'`,
    );
  if (!isObject(raw))
    throw errors.invalidArgument(`${where} must be a mapping with a type (float, int or categorical)`);
  const type = raw.type;
  if (type !== 'float' && type !== 'int' && type !== 'categorical') {
    throw errors.invalidArgument(`${where}: unknown type '${String(type)}' (use float, int or categorical)`);
  }
  const unknown = Object.keys(raw).filter((k) => !KEYS[type].includes(k));
  if (unknown.length > 0)
    throw errors.invalidArgument(
      `${where}: unknown key ${unknown.map((k) => `'${k}'`).join(', ')} for type ${type}`,
    );
  const when = parseWhen(raw.when, where);
  if (type === 'categorical') {
    const choices = raw.choices;
    if (!Array.isArray(choices) || choices.length === 0 || !choices.every(isScalar)) {
      throw errors.invalidArgument(
        `${where}: choices must be a non-empty list of numbers, strings or booleans`,
      );
    }
    if (new Set(choices.map((c) => JSON.stringify(c))).size !== choices.length)
      throw errors.invalidArgument(`${where}: choices must not repeat`);
    return { type, name, when, choices };
  }
  const low = raw.low;
  const high = raw.high;
  if (typeof low !== 'number' || !Number.isFinite(low) || typeof high !== 'number' || !Number.isFinite(high))
    throw errors.invalidArgument(`${where}: low and high must be finite numbers`);
  if (!(low < high)) throw errors.invalidArgument(`${where}: low (${low}) must be less than high (${high})`);
  const log = raw.log ?? false;
  if (typeof log !== 'boolean') throw errors.invalidArgument(`${where}: log must be true or false`);
  if (log && low <= 0) throw errors.invalidArgument(`${where}: a log scale needs low > 0 (low is ${low})`);
  if (type === 'float') return { type, name, when, low, high, log };
  const step = raw.step ?? 1;
  if (!Number.isInteger(low) || !Number.isInteger(high))
    throw errors.invalidArgument(`${where}: an int parameter needs whole-number low and high`);
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 1)
    throw errors.invalidArgument(`${where}: step must be a positive whole number`);
  if (log && step !== 1)
    throw errors.invalidArgument(`${where}: step and log cannot be combined (step must be 1)`);
  if ((high - low) % step !== 0)
    throw errors.invalidArgument(`${where}: high - low (${high - low}) must be a multiple of step (${step})`);
  return { type, name, when, low, high, step, log };
}

function parseWhen(raw: unknown, where: string): Record<string, ParamValue[]> | null {
  if (raw === undefined) return null;
  if (!isObject(raw) || Object.keys(raw).length === 0)
    throw errors.invalidArgument(`${where}: when must be a mapping {OTHER_PARAMETER: VALUE}`);
  const when: Record<string, ParamValue[]> = {};
  for (const [other, value] of Object.entries(raw)) {
    const values = Array.isArray(value) ? value : [value];
    if (values.length === 0 || !values.every(isScalar))
      throw errors.invalidArgument(`${where}: when.${other} must be a value or a list of values`);
    when[other] = values;
  }
  return when;
}

function checkCondition(spec: ParamSpec, byName: ReadonlyMap<string, ParamSpec>, source: string): void {
  for (const [other, values] of Object.entries(spec.when ?? {})) {
    const where = `${source}: parameter '${spec.name}'`;
    const parent = byName.get(other);
    if (parent === undefined)
      throw errors.invalidArgument(`${where}: when names '${other}', which is not a parameter`);
    if (other === spec.name) throw errors.invalidArgument(`${where}: when cannot name the parameter itself`);
    for (const value of values) {
      if (!admits(parent, value))
        throw errors.invalidArgument(
          `${where}: when.${other} = ${JSON.stringify(value)} is not a value '${other}' can take`,
        );
    }
  }
}

/** True when `value` is one `spec` can take. */
export function admits(spec: ParamSpec, value: unknown): boolean {
  if (spec.type === 'categorical') return spec.choices.some((c) => c === value);
  if (typeof value !== 'number' || value < spec.low || value > spec.high) return false;
  return spec.type === 'float' || (Number.isInteger(value) && (value - spec.low) % spec.step === 0);
}

/** Parents before children (a depth-first order that keeps file order among independent parameters). */
function dependencyOrder(specs: readonly ParamSpec[], source: string): ParamSpec[] {
  const byName = new Map(specs.map((p) => [p.name, p]));
  const state = new Map<string, 'visiting' | 'done'>();
  const out: ParamSpec[] = [];
  const visit = (spec: ParamSpec, path: string[]): void => {
    const seen = state.get(spec.name);
    if (seen === 'done') return;
    if (seen === 'visiting')
      throw errors.invalidArgument(`${source}: conditions form a loop: ${[...path, spec.name].join(' → ')}`);
    state.set(spec.name, 'visiting');
    for (const other of Object.keys(spec.when ?? {}))
      visit(byName.get(other) as ParamSpec, [...path, spec.name]);
    state.set(spec.name, 'done');
    out.push(spec);
  };
  for (const spec of specs) visit(spec, []);
  return out;
}

/** True when `spec`'s condition holds for the values chosen so far. */
export function isActive(spec: ParamSpec, params: Readonly<Params>): boolean {
  if (spec.when === null) return true;
  return Object.entries(spec.when).every(([other, values]) => {
    const value = params[other];
    return value !== undefined && values.some((v) => v === value);
  });
}

/** The condition of a parameter as a key: parameters with the same key are active together. */
export function conditionKey(spec: ParamSpec): string {
  if (spec.when === null) return '';
  return JSON.stringify(Object.entries(spec.when).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A space as plain data (what a study stores, and compares on --resume). */
export function spaceToJson(space: SearchSpace): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of space.params) {
    const { name, when, ...rest } = spec;
    const whenOut =
      when === null
        ? {}
        : { when: Object.fromEntries(Object.entries(when).map(([k, v]) => [k, v.length === 1 ? v[0] : v])) };
    out[name] = { ...rest, ...whenOut };
  }
  return out;
}

/** Check stored trial parameters against the space: every active parameter present and admissible. */
export function checkParams(space: SearchSpace, params: Readonly<Params>): string | null {
  for (const spec of space.params) {
    const active = isActive(spec, params);
    const value = params[spec.name];
    if (active && (value === undefined || !admits(spec, value)))
      return `parameter '${spec.name}' = ${JSON.stringify(value)} is not in the space`;
    if (!active && value !== undefined) return `parameter '${spec.name}' is set but inactive`;
  }
  return null;
}
