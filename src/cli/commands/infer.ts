/** `tend infer REF --data FILE`: one request, in this process or against a running server. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { resolveServerConfig } from '../../core/config.js';
import { errors } from '../../core/errors.js';
import { Engine, readFeatureRows, type ServedVersion } from '../../engine/index.js';
import { decodeInferRequest, encodeInferResponse, parseJsonBody } from '../../server/http/index.js';
import { existingHome, resolveHome } from '../home.js';
import { printJson } from '../output.js';
import { parseRef } from './registry.js';

export interface InferOptions {
  data: string;
  url?: string;
  home?: string;
  repo: string[];
  json?: boolean;
}

interface InputSpec {
  name: string;
  datatype: string;
  shape: number[];
}

interface V2Output {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

/** A V2 request body from a .json file (as is) or a .csv (rows of the model's single input). */
export function requestBodyFromFile(file: string, inputs: readonly InputSpec[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw errors.invalidArgument(`cannot read ${file}: ${(err as Error).message}`);
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.json') {
    const body = parseJsonBody(Buffer.from(text));
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw errors.invalidArgument(`${file} must hold a V2 request object`);
    return body as Record<string, unknown>;
  }
  if (ext !== '.csv')
    throw errors.invalidArgument(`--data must be a .json V2 request body or a .csv file, got '${file}'`);
  if (inputs.length !== 1) {
    throw errors.invalidArgument(
      `a CSV can feed a model with one input; this one has ${inputs.length} (${inputs.map((i) => i.name).join(', ')}): use a .json request`,
    );
  }
  const spec = inputs[0] as InputSpec;
  const table = readFeatureRows(text, file); // a header row, then one row of features per item
  const width = spec.shape.length === 2 ? spec.shape[1] : undefined;
  if (width !== undefined && width > 0 && table.columns.length !== width) {
    throw errors.invalidArgument(
      `${file} has ${table.columns.length} columns but input '${spec.name}' takes ${width} features per row`,
    );
  }
  return {
    inputs: [
      {
        name: spec.name,
        datatype: spec.datatype,
        shape: [table.rows, table.columns.length],
        data: Array.from(table.values),
      },
    ],
  };
}

function formatValue(v: unknown): string {
  return typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : String(v);
}

const INTEGER_TYPES = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);

/** An integer output with one value per row names a class: shown by its name when the model has names. */
function classNameOf(o: V2Output, perRow: number, value: unknown, classes: readonly string[] | undefined) {
  if (classes === undefined || perRow !== 1 || !INTEGER_TYPES.has(o.datatype)) return undefined;
  return typeof value === 'number' ? classes[value] : undefined;
}

function printOutputs(
  response: {
    model_name: string;
    model_version: string;
    id: string;
    outputs: V2Output[];
  },
  classes?: readonly string[],
): void {
  process.stdout.write(`${response.model_name} version ${response.model_version} (id ${response.id})\n`);
  const rows = response.outputs.reduce((n, o) => Math.max(n, o.shape[0] ?? 1), 0);
  for (let r = 0; r < Math.min(rows, 50); r++) {
    const parts = response.outputs.map((o) => {
      const perRow = o.shape.length > 0 && o.shape[0] === rows ? o.data.length / rows : o.data.length;
      const slice =
        o.shape.length > 0 && o.shape[0] === rows ? o.data.slice(r * perRow, (r + 1) * perRow) : o.data;
      const named = classNameOf(o, perRow, slice[0], classes);
      if (named !== undefined && slice.length === 1) return `${o.name}=${named}`;
      const shown = slice.slice(0, 10).map(formatValue).join(', ');
      return `${o.name}=${slice.length === 1 ? shown : `[${shown}${slice.length > 10 ? ', …' : ''}]`}`;
    });
    process.stdout.write(`  row ${r}: ${parts.join('  ')}\n`);
  }
  if (rows > 50) process.stdout.write(`  … ${rows - 50} more rows (use --json for all)\n`);
}

/**
 * POST a request built from a data file to a model's `verb` (infer, explain) on a running server: the
 * inputs' names, types and shapes come from the server's model metadata. Shared by infer and explain.
 */
export async function postFromFile(
  ref: string,
  url: string | undefined,
  dataFile: string,
  verb: 'infer' | 'explain',
  extra: Record<string, unknown> = {},
): Promise<unknown> {
  const { name, version } = parseRef(ref);
  const base = `${url?.replace(/\/$/, '')}/v2/models/${encodeURIComponent(name)}${version ? `/versions/${encodeURIComponent(version)}` : ''}`;
  const meta = await fetch(base);
  const metaBody = (await meta.json()) as { inputs?: InputSpec[]; error?: string };
  if (!meta.ok)
    throw errors.withCode(
      meta.status === 404 ? 'TEND_MODEL_NOT_FOUND' : 'TEND_BAD_REQUEST',
      metaBody.error ?? `server answered ${meta.status}`,
    );
  const body = { ...requestBodyFromFile(dataFile, metaBody.inputs ?? []), ...extra };
  const res = await fetch(`${base}/${verb}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  const answer = (await res.json()) as { error?: string };
  if (!res.ok)
    throw errors.withCode(
      res.status >= 500 ? 'TEND_INTERNAL' : 'TEND_BAD_REQUEST',
      answer.error ?? `server answered ${res.status}`,
    );
  return answer;
}

/** A served version's inputs as the data-file reader wants them (dynamic dimensions as -1). */
export function inputSpecsOf(target: ServedVersion): InputSpec[] {
  return target.signature.inputs.map((s) => ({
    name: s.name,
    datatype: s.datatype ?? s.onnx_type,
    shape: (s.shape ?? []).map((d) => (typeof d === 'number' ? d : -1)),
  }));
}

/** The home of an in-process run: a repository run needs none; otherwise it must exist. */
export function localHome(opts: { home?: string; repo: string[] }): string {
  return opts.repo.length > 0 ? resolveHome(opts.home) : existingHome(opts.home);
}

async function inferLocal(
  ref: string,
  opts: InferOptions,
): Promise<{ response: unknown; classes?: string[] }> {
  const { name, version } = parseRef(ref);
  const config = resolveServerConfig({ flags: { home: opts.home, repos: opts.repo, logLevel: 'silent' } });
  const engine = await Engine.open({ home: localHome(opts), repos: opts.repo, config, only: [name] });
  try {
    const target = await engine.resolve(name, version);
    const request = decodeInferRequest(requestBodyFromFile(opts.data, inputSpecsOf(target)));
    const response = await engine.infer(target, request);
    const classes = target.config.labels ?? target.classes;
    return {
      response: JSON.parse(encodeInferResponse(response)) as unknown,
      ...(classes !== undefined ? { classes } : {}),
    };
  } finally {
    await engine.close();
  }
}

export async function inferCommand(ref: string, opts: InferOptions): Promise<void> {
  // Class names are known in this process only: a server's V2 metadata does not carry them.
  const { response, classes } = opts.url
    ? { response: await postFromFile(ref, opts.url, opts.data, 'infer'), classes: undefined }
    : await inferLocal(ref, opts);
  const answer = response as Parameters<typeof printOutputs>[0];
  if (opts.json) printJson(answer);
  else printOutputs(answer, classes);
}
