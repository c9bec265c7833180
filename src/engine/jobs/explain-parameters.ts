/**
 * The `parameters` of an explain request (`method`, `nsamples`, `seed`, `output`, `top_k`,
 * `background`), checked once with a message naming the field and what it takes.
 */
import { errors } from '../../core/errors.js';

export const EXPLAIN_METHODS = ['kernel_shap', 'lime'] as const;
export type ExplainMethod = (typeof EXPLAIN_METHODS)[number];
/** The most background rows a request may send. */
export const MAX_BACKGROUND_ROWS = 1000;

export interface ExplainParameters {
  method: ExplainMethod;
  /** KernelSHAP coalitions or LIME samples; absent = the method's default. */
  nsamples?: number;
  seed: number;
  /** Only this output (default: every FP32/FP64 output). */
  output?: string;
  /** LIME: features reported per class. */
  topK?: number;
  /** Background rows given by the request (instead of the version's reference). */
  background?: number[][];
}

const KNOWN = new Set(['method', 'nsamples', 'seed', 'output', 'top_k', 'background']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Check the request's `parameters` (absent: every default) against `maxNsamples`
 * (limits.max_explain_nsamples).
 * @throws TendError TEND_INVALID_ARGUMENT naming the field
 */
export function parseExplainParameters(raw: unknown, maxNsamples: number): ExplainParameters {
  if (raw === undefined || raw === null) return { method: 'kernel_shap', seed: 0 };
  if (!isObject(raw)) throw errors.invalidArgument('"parameters" must be an object');
  const unknown = Object.keys(raw).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0)
    throw errors.invalidArgument(
      `unknown parameter(s) ${unknown.map((k) => `'${k}'`).join(', ')}; an explain request takes ${[...KNOWN].join(', ')}`,
    );
  const method = raw['method'] ?? 'kernel_shap';
  if (typeof method !== 'string' || !(EXPLAIN_METHODS as readonly string[]).includes(method))
    throw errors.invalidArgument(
      `parameters.method must be one of ${EXPLAIN_METHODS.join(', ')}, got ${JSON.stringify(method)}`,
    );
  const params: ExplainParameters = { method: method as ExplainMethod, seed: 0 };
  const nsamples = raw['nsamples'];
  if (nsamples !== undefined && nsamples !== null) {
    if (typeof nsamples !== 'number' || !Number.isSafeInteger(nsamples) || nsamples <= 0)
      throw errors.invalidArgument(
        `parameters.nsamples must be a positive integer, got ${JSON.stringify(nsamples)}`,
      );
    if (nsamples > maxNsamples)
      throw errors.invalidArgument(
        `parameters.nsamples ${nsamples} is over the server's limit of ${maxNsamples} (limits.max_explain_nsamples); ask for fewer samples, or raise the limit in the server config`,
      );
    if (method === 'lime' && nsamples < 2)
      throw errors.invalidArgument(
        'parameters.nsamples must be at least 2 for lime (the row itself and one perturbation)',
      );
    params.nsamples = nsamples;
  }
  const seed = raw['seed'];
  if (seed !== undefined && seed !== null) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed))
      throw errors.invalidArgument(`parameters.seed must be an integer, got ${JSON.stringify(seed)}`);
    params.seed = seed;
  }
  const output = raw['output'];
  if (output !== undefined && output !== null) {
    if (typeof output !== 'string' || output === '')
      throw errors.invalidArgument("parameters.output must be the name of one of the model's outputs");
    params.output = output;
  }
  const topK = raw['top_k'];
  if (topK !== undefined && topK !== null) {
    if (typeof topK !== 'number' || !Number.isSafeInteger(topK) || topK <= 0)
      throw errors.invalidArgument(
        `parameters.top_k must be a positive integer, got ${JSON.stringify(topK)}`,
      );
    params.topK = topK;
  }
  const background = raw['background'];
  if (background !== undefined && background !== null) {
    if (!Array.isArray(background) || background.length === 0)
      throw errors.invalidArgument(
        'parameters.background must be a non-empty array of rows (arrays of numbers)',
      );
    if (background.length > MAX_BACKGROUND_ROWS)
      throw errors.invalidArgument(
        `parameters.background has ${background.length} rows; at most ${MAX_BACKGROUND_ROWS} (summarise larger sets, e.g. by k-means)`,
      );
    params.background = background.map((row: unknown, i) => {
      if (!Array.isArray(row) || !row.every((v) => typeof v === 'number' && Number.isFinite(v)))
        throw errors.invalidArgument(`parameters.background[${i}] must be an array of finite numbers`);
      return row as number[];
    });
  }
  return params;
}
