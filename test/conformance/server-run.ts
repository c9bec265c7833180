/**
 * The server path: a chunk of cases served from a temporary Triton-like repository by a real tend
 * HTTP server on loopback, each case sent once over the binary tensor extension.
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../../src/core/tensor.js';
import { startTestServer, tempDir } from '../helpers.js';
import { decodeBinaryResponse, encodeBinaryRequest } from './binary-client.js';
import type { CarriableCase } from './cases.js';

/** Outputs of one case through the server, or the server's answer when it was not 200. */
export type ServerOutcome = { ok: true; outputs: Tensor[] } | { ok: false; error: string };

/** No batching: clients send full shapes, each request runs alone. */
const CASE_CONFIG = 'max_batch_size: 0\ndynamic_batching: false\nparameters:\n  intra_op_thread_count: 1\n';

function writeRepository(cases: readonly CarriableCase[]): string {
  const dir = tempDir('conformance');
  for (const c of cases) {
    mkdirSync(join(dir, c.name, '1'), { recursive: true });
    copyFileSync(c.modelPath, join(dir, c.name, '1', 'model.onnx'));
    writeFileSync(join(dir, c.name, 'config.yaml'), CASE_CONFIG);
  }
  return dir;
}

/** One infer request over the binary extension. */
export async function inferBinary(
  url: string,
  model: string,
  inputs: readonly Tensor[],
): Promise<ServerOutcome> {
  const { body, headerLength } = encodeBinaryRequest(inputs);
  const res = await fetch(`${url}/v2/models/${encodeURIComponent(model)}/infer`, {
    method: 'POST',
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(headerLength),
    },
    body,
  });
  const answer = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200)
    return { ok: false, error: `HTTP ${res.status}: ${answer.toString('utf8').slice(0, 500)}` };
  const length = res.headers.get('inference-header-content-length');
  if (length === null) return { ok: false, error: 'HTTP 200 without Inference-Header-Content-Length' };
  try {
    return { ok: true, outputs: decodeBinaryResponse(answer, Number(length)) };
  } catch (err) {
    return { ok: false, error: `response: ${(err as Error).message}` };
  }
}

/**
 * Serve `cases` from one server (loaded at start, closed at the end) and run each once,
 * `parallel` requests at a time. Results are keyed by case name.
 */
export async function runChunkThroughServer(
  cases: readonly CarriableCase[],
  parallel = 4,
): Promise<Map<string, ServerOutcome>> {
  const results = new Map<string, ServerOutcome>();
  if (cases.length === 0) return results;
  const repo = writeRepository(cases);
  const server = await startTestServer({ repos: [repo] });
  try {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < cases.length) {
        const c = cases[next++] as CarriableCase;
        try {
          results.set(c.name, await inferBinary(server.url, c.name, c.inputs));
        } catch (err) {
          results.set(c.name, { ok: false, error: `request: ${(err as Error).message}` });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, cases.length) }, lane));
  } finally {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  }
  return results;
}
