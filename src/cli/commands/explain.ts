/** `tend explain REF --data ROWS.csv`: KernelSHAP or LIME attributions of rows, in this process or on a server. */
import { resolveServerConfig } from '../../core/config.js';
import { errors } from '../../core/errors.js';
import { Engine, type ExplainResponse } from '../../engine/index.js';
import { decodeInferRequest } from '../../server/http/index.js';
import { printJson } from '../output.js';
import { inputSpecsOf, localHome, postFromFile, requestBodyFromFile } from './infer.js';
import { parseRef } from './registry.js';

export interface ExplainOptions {
  data: string;
  method?: string;
  nsamples?: string;
  seed?: string;
  output?: string;
  topK?: string;
  url?: string;
  home?: string;
  repo: string[];
  json?: boolean;
}

function integerOption(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw errors.invalidArgument(`${flag} must be an integer, got '${value}'`);
  return n;
}

/** The request's `parameters` from the flags (the engine checks the values). */
function parametersOf(opts: ExplainOptions): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  if (opts.method !== undefined) params['method'] = opts.method;
  const nsamples = integerOption('--nsamples', opts.nsamples);
  if (nsamples !== undefined) params['nsamples'] = nsamples;
  const seed = integerOption('--seed', opts.seed);
  if (seed !== undefined) params['seed'] = seed;
  const topK = integerOption('--top-k', opts.topK);
  if (topK !== undefined) params['top_k'] = topK;
  if (opts.output !== undefined) params['output'] = opts.output;
  return params;
}

async function explainRemote(ref: string, opts: ExplainOptions): Promise<ExplainResponse> {
  return (await postFromFile(ref, opts.url, opts.data, 'explain', {
    parameters: parametersOf(opts),
  })) as ExplainResponse;
}

async function explainLocal(ref: string, opts: ExplainOptions): Promise<ExplainResponse> {
  const { name, version } = parseRef(ref);
  const config = resolveServerConfig({ flags: { home: opts.home, repos: opts.repo, logLevel: 'silent' } });
  const engine = await Engine.open({ home: localHome(opts), repos: opts.repo, config, only: [name] });
  try {
    const target = await engine.resolve(name, version);
    const request = decodeInferRequest(requestBodyFromFile(opts.data, inputSpecsOf(target)));
    return await engine.explain(name, version, request.inputs, parametersOf(opts));
  } finally {
    await engine.close();
  }
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : ''}${v.toPrecision(3)}`;
}

/** Per row and output: the class the model scores highest and its ten largest attributions. */
function printExplanation(response: ExplainResponse): void {
  process.stdout.write(
    `${response.model_name} version ${response.model_version}: ${response.method}, ${response.nsamples} samples, ${response.seconds.toFixed(3)} s\n`,
  );
  for (const out of response.outputs) {
    out.attributions.forEach((perClass, r) => {
      // KernelSHAP: f(x) = base + Σφ; LIME: the local model's prediction. The top class is shown.
      const scores = perClass.map((phi, c) =>
        response.method === 'lime'
          ? (out.local_prediction?.[r]?.[c] ?? 0)
          : (out.base_value[c] ?? 0) + phi.reduce((a, b) => a + b, 0),
      );
      const c = scores.indexOf(Math.max(...scores));
      const phi = perClass[c] ?? [];
      const order =
        out.top_features?.[r]?.[c] ??
        phi
          .map((v, j) => ({ v, j }))
          .sort((a, b) => Math.abs(b.v) - Math.abs(a.v))
          .slice(0, 10)
          .map((e) => e.j);
      const top = order.map((j) => `${out.feature_names[j] ?? j} ${signed(phi[j] ?? 0)}`);
      const detail =
        response.method === 'lime'
          ? `local ${(scores[c] ?? 0).toPrecision(4)}, R² ${(out.local_r2?.[r]?.[c] ?? Number.NaN).toFixed(3)}`
          : `f(x) ${(scores[c] ?? 0).toPrecision(4)}, base ${(out.base_value[c] ?? 0).toPrecision(4)}`;
      process.stdout.write(`  row ${r} ${out.name} ${out.classes[c] ?? c} (${detail}): ${top.join(', ')}\n`);
    });
  }
  process.stdout.write('  (--json prints every attribution)\n');
}

export async function explainCommand(ref: string, opts: ExplainOptions): Promise<void> {
  const response = opts.url ? await explainRemote(ref, opts) : await explainLocal(ref, opts);
  if (opts.json) printJson(response);
  else printExplanation(response);
}
