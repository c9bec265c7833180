/**
 * A fuzz session: a fresh registry home, `tend serve` on it, a reference inference recorded before
 * the campaign, and the checks after it (still ready, the same answer to the same request, no
 * error logged, still alive).
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { digitOf, digitPixels } from '../digits-data.js';
import { grpcClient } from '../grpc-client.js';
import type { FuzzTarget } from './campaign.js';
import { prepareFuzzHome } from './fuzz-models.js';
import { startServeProcess, type ServeProcess } from './serve-process.js';

const REFERENCE_ROWS = Array.from({ length: 8 }, (_, i) => 3 * i + 1);

export interface FuzzSession {
  target: FuzzTarget;
  serve: ServeProcess;
  /** Problems found after the campaign (empty: all well). */
  checkAfter(): Promise<string[]>;
  close(): Promise<void>;
}

async function referenceAnswer(url: string): Promise<{ status: number; logits: number[]; labels: number[] }> {
  const body = {
    inputs: [
      {
        name: 'pixels',
        datatype: 'FP32',
        shape: [REFERENCE_ROWS.length, 64],
        data: REFERENCE_ROWS.flatMap((r) => digitPixels(r)),
      },
    ],
  };
  const res = await fetch(`${url}/v2/models/digits/infer`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  const json = (await res.json()) as { outputs?: { data: number[] }[] };
  const logits = json.outputs?.[0]?.data ?? [];
  const labels = REFERENCE_ROWS.map((_, i) => {
    const row = logits.slice(10 * i, 10 * i + 10);
    return row.indexOf(Math.max(...row));
  });
  return { status: res.status, logits, labels };
}

/** Start a server for fuzzing and record the reference answer. */
export async function startFuzzSession(options: { maxLogRows?: number } = {}): Promise<FuzzSession> {
  const prepared = await prepareFuzzHome(options);
  const serve = await startServeProcess({ home: prepared.home, configFile: prepared.configFile });
  const before = await referenceAnswer(serve.url);
  const truth = REFERENCE_ROWS.map(digitOf);
  if (before.status !== 200 || before.labels.join() !== truth.join()) {
    await serve.stop();
    throw new Error(
      `the digits model does not answer the reference rows right before fuzzing: ${before.status} ${before.labels.join()} vs ${truth.join()}`,
    );
  }
  const target: FuzzTarget = {
    url: serve.url,
    grpcAddress: serve.grpcAddress,
    bodyLimitBytes: prepared.bodyLimitBytes,
    alive: () => serve.exit === undefined,
  };
  return {
    target,
    serve,
    async checkAfter() {
      const problems: string[] = [];
      if (serve.exit) return [`the server process exited (${serve.exit.code ?? serve.exit.signal})`];
      const ready = await fetch(`${serve.url}/v2/health/ready`);
      const readyBody = await ready.text();
      if (ready.status !== 200) problems.push(`/v2/health/ready answered ${ready.status}: ${readyBody}`);
      const after = await referenceAnswer(serve.url);
      if (after.status !== 200) problems.push(`the reference inference answered ${after.status}`);
      else if (after.logits.join() !== before.logits.join())
        problems.push(
          `the reference inference changed: labels ${after.labels.join()} (were ${before.labels.join()})`,
        );
      const client = grpcClient(serve.grpcAddress);
      try {
        const res = await client.call('ServerReady', {}, { deadlineMs: 5000 });
        if (res['ready'] !== true) problems.push(`gRPC ServerReady says ${JSON.stringify(res)}`);
      } catch (err) {
        problems.push(`gRPC ServerReady failed: ${(err as Error).message}`);
      } finally {
        client.close();
      }
      for (const line of serve.errorLines.slice(0, 10))
        problems.push(`server logged: ${line.slice(0, 1000)}`);
      return problems;
    },
    async close() {
      await serve.stop();
      rmSync(prepared.home, { recursive: true, force: true });
      rmSync(dirname(prepared.configFile), { recursive: true, force: true });
    },
  };
}
