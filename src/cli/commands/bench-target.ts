/**
 * What `tend bench` measures: the model's endpoint, the one request it sends (in the chosen
 * encoding), checked once before any load, and a fresh sender per load level.
 */
import { readFileSync } from 'node:fs';
import { errors } from '../../core/errors.js';
import { createGrpcSender, encodeModelInferRequest } from '../loadgen/grpc-sender.js';
import { createHttpSender } from '../loadgen/http-sender.js';
import {
  binaryRequest,
  jsonRequest,
  syntheticBody,
  tensorsOfJsonBody,
  type HttpRequestBody,
  type MetadataInput,
} from '../loadgen/request-bodies.js';
import type { RequestSender } from '../loadgen/sender.js';
import type { BenchLevel, BenchPlan } from './bench-options.js';

export interface BenchTarget {
  /** `<base>/v2/models/<name>[/versions/<v>]`. */
  modelUrl: string;
  /** The version that answered the check request (the statistics are read for it). */
  servedVersion: string;
  /** A sender for one level (its connections sized for the level). */
  sender(level: BenchLevel): RequestSender;
}

export interface TargetOptions {
  baseUrl: string;
  name: string;
  version: string | undefined;
  plan: BenchPlan;
  batch: number;
  /** --data: a V2 JSON request body file. */
  dataPath: string | undefined;
  /** host:port of the gRPC frontend (gRPC only). */
  grpcAddress: string | null;
}

async function readJson(
  res: Response,
): Promise<{ error?: string; model_version?: string } & Record<string, unknown>> {
  try {
    return (await res.json()) as { error?: string };
  } catch {
    return {};
  }
}

/** Send once through `sender`; resolves with how it ended. */
function sendOnce(sender: RequestSender): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) =>
    sender.send((status, ok, detail) => resolve({ ok, detail: detail ?? status })),
  );
}

/** Read the model's metadata, build the request, check that the server accepts it. */
export async function prepareTarget(options: TargetOptions): Promise<BenchTarget> {
  const { baseUrl, name, version, plan } = options;
  const modelUrl = `${baseUrl}/v2/models/${encodeURIComponent(name)}${version ? `/versions/${encodeURIComponent(version)}` : ''}`;
  const given = options.dataPath ? readDataFile(options.dataPath) : undefined;
  let metaRes: Response;
  try {
    metaRes = await fetch(modelUrl);
  } catch (err) {
    throw errors.invalidArgument(
      `cannot reach ${baseUrl} (${(err as Error).message}) — check --url, or leave it out to start a server`,
    );
  }
  const meta = (await readJson(metaRes)) as { inputs?: MetadataInput[]; error?: string };
  if (!metaRes.ok)
    throw errors.withCode(
      metaRes.status === 404 ? 'TEND_MODEL_NOT_FOUND' : 'TEND_BAD_REQUEST',
      meta.error ?? `metadata request answered ${metaRes.status}`,
    );
  const json = given ?? syntheticBody(meta.inputs ?? [], options.batch, plan.shapes);
  const check = await fetch(`${modelUrl}/infer`, {
    method: 'POST',
    body: json,
    headers: { 'content-type': 'application/json' },
  });
  const answer = await readJson(check);
  if (!check.ok) {
    throw errors.invalidArgument(
      `the benchmark request is refused: ${answer.error ?? check.status} (use --shape or --data)`,
    );
  }
  const servedVersion = typeof answer.model_version === 'string' ? answer.model_version : (version ?? '');
  const source = options.dataPath ? `--data ${options.dataPath}` : 'the generated request';
  const inferUrl = `${modelUrl}/infer`;

  let makeSender: (level: BenchLevel) => RequestSender;
  if (plan.protocol === 'grpc') {
    const address = options.grpcAddress;
    if (address === null) throw errors.internal('no gRPC address to benchmark');
    const request = encodeModelInferRequest(name, version ?? '', tensorsOfJsonBody(json, source));
    makeSender = () => createGrpcSender({ address, request });
  } else {
    const http: HttpRequestBody = plan.binary
      ? binaryRequest(tensorsOfJsonBody(json, source))
      : jsonRequest(json);
    makeSender = (level) =>
      createHttpSender({
        url: inferUrl,
        body: http.body,
        headers: http.headers,
        maxSockets: 'concurrency' in level ? level.concurrency : plan.maxInFlight,
      });
  }
  // The request as the load will send it (binary, gRPC) must be accepted too.
  const probe = makeSender({ concurrency: 1 });
  try {
    try {
      await probe.connect();
    } catch (err) {
      const flag = plan.protocol === 'grpc' ? '--grpc-address' : '--url';
      throw errors.invalidArgument(`${(err as Error).message} — check ${flag}`);
    }
    const probed = await sendOnce(probe);
    if (!probed.ok)
      throw errors.invalidArgument(
        `the benchmark request is refused over ${protocolLabel(plan)}: ${probed.detail}`,
      );
  } finally {
    probe.close();
  }
  return { modelUrl, servedVersion, sender: makeSender };
}

function readDataFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw errors.invalidArgument(`--data '${path}' cannot be read: ${(err as Error).message}`);
  }
}

/** "HTTP (JSON)", "HTTP (binary tensors)", "gRPC". */
export function protocolLabel(plan: BenchPlan): string {
  if (plan.protocol === 'grpc') return 'gRPC';
  return plan.binary ? 'HTTP (binary tensors)' : 'HTTP (JSON)';
}
