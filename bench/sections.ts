/**
 * The sections of the benchmark: each sets up what it measures (servers as child processes, temp
 * repositories), measures, and tears down even when a step fails.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { ModelConfig } from '../src/core/config.js';
import { trainDigitsModel } from '../src/train/digits.js';
import { MAX_ATTEMPTS, measureUndisturbed, OTHER_CORES_LIMIT } from './cpu-accounting.js';
import { measureComputeCeiling, type ComputeCeiling } from './compute.js';
import {
  checkInferEndpoint,
  measureInterleaved,
  measureLoad,
  readBatchCounter,
  type LoadFigure,
  type LoadPlan,
  type LoadTarget,
} from './http-load.js';
import { peerAvailable, startFastApiPeer } from './peer.js';
import { measureReloadMemory, type MemoryResult } from './memory.js';
import { digitsModel, v2JsonBody, type BenchModel } from './models.js';
import { startCeilingServer, startTendServer, type ChildServer } from './servers.js';
import { writePostScript } from './wrk.js';

export const HTTP_CONCURRENCIES = [1, 8, 32];
export const BATCHING_CLIENTS = 16;
export const BATCHING_MAX_BATCH_SIZE = 16;
export const BATCHING_DELAYS_US = [0, 2000];
export const COMPUTE_INTRA_OP_THREADS = 2;

export interface SectionContext {
  /** Scratch folder (temp repositories, homes, wrk scripts, server logs). */
  workDir: string;
  load: LoadPlan;
  computeRuns: number;
  computeSecondsPerRun: number;
  memoryCycles: number;
  memoryReferenceCycle: number;
  log: (line: string) => void;
}

export interface DigitsArtifact {
  model: BenchModel;
  body: string;
  testAccuracy: number;
  /** The held-out split (raw features: the graph standardizes them itself). */
  testSet: { features: Float32Array; labels: Int32Array; rows: number };
  /** The training split with its column names, and the class names (labels index them). */
  trainSet: { features: Float32Array; labels: Int32Array; rows: number; columns: string[]; target: string };
  classes: string[];
}

let digitsCache: DigitsArtifact | null = null;

/** Train the demo digits model once per bench run and write it to the scratch folder. */
export function digitsArtifact(ctx: SectionContext): DigitsArtifact {
  if (digitsCache !== null) return digitsCache;
  ctx.log('training the digits demo model');
  const trained = trainDigitsModel();
  const dir = join(ctx.workDir, 'digits-model');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'model.onnx');
  writeFileSync(path, trained.model);
  const row = trained.testSet.features.slice(0, 64);
  const model = digitsModel(path, row);
  digitsCache = {
    model,
    body: v2JsonBody(model.makeInputs(1)),
    testAccuracy: trained.metrics.test_accuracy,
    testSet: trained.testSet,
    trainSet: trained.trainSet,
    classes: trained.classes,
  };
  return digitsCache;
}

/** Start a server, use it, and stop it whatever happens. */
export async function withServer<T>(
  start: () => Promise<ChildServer>,
  use: (server: ChildServer) => Promise<T>,
): Promise<T> {
  const server = await start();
  try {
    return await use(server);
  } finally {
    await server.stop();
  }
}

/** (a) the bare Fastify server at each HTTP concurrency. */
export async function runHttpCeiling(ctx: SectionContext): Promise<LoadFigure[]> {
  const { body } = digitsArtifact(ctx);
  const script = writePostScript(ctx.workDir, 'ceiling', body);
  return withServer(
    () => startCeilingServer(ctx.workDir),
    async (server) => {
      const url = `${server.baseUrl}/v2/models/digits/infer`;
      await checkInferEndpoint(url, body, ['probabilities', 'label']);
      const figures: LoadFigure[] = [];
      for (const c of HTTP_CONCURRENCIES)
        figures.push(await measureLoad('fastify ceiling', url, script, c, ctx.load));
      return figures;
    },
  );
}

/**
 * (a) + (b) together: the bare Fastify ceiling and the digits model served by `tend serve` (default
 * config), both running, their wrk runs interleaved at each concurrency.
 */
export interface HttpComparison {
  ceiling: LoadFigure[];
  digits: LoadFigure[];
  /** The same default server with a bearer token on every request. */
  token: LoadFigure[];
  /** FastAPI + PyTorch serving the same network, or why it did not run. */
  peer: { figures: LoadFigure[]; versions: string } | { skipped: string };
}

/** Make an admin token, then an infer token with it; the server's authentication is on from then on. */
async function createInferToken(baseUrl: string): Promise<string> {
  const post = async (body: unknown, token?: string): Promise<{ token: string }> => {
    const res = await fetch(`${baseUrl}/api/v1/tokens`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST /api/v1/tokens answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as { token: string };
  };
  const admin = await post({ name: 'bench-admin', scopes: ['admin'] });
  return (await post({ name: 'bench-client', scopes: ['infer', 'read'] }, admin.token)).token;
}

/**
 * Section 1: a bare Fastify server, tend (default config), tend with a token on every request and the
 * FastAPI + PyTorch peer, all running side by side, their wrk runs interleaved at each concurrency.
 */
export async function runHttpComparison(ctx: SectionContext): Promise<HttpComparison> {
  const digits = digitsArtifact(ctx);
  const repo = join(ctx.workDir, 'repo-digits');
  addToRepository(repo, 'digits', digits.model.path, null);
  const ceilingScript = writePostScript(ctx.workDir, 'ceiling', digits.body);
  const digitsScript = writePostScript(ctx.workDir, 'digits', digits.body);
  const peerProbe = peerAvailable();
  const tendServer = (name: string) => () =>
    startTendServer({ name, repos: [repo], home: join(ctx.workDir, `home-${name}`), logDir: ctx.workDir });
  const noPeer = async (): Promise<ChildServer | null> => null;
  return withServer(
    () => startCeilingServer(ctx.workDir),
    (ceiling) =>
      withServer(tendServer('digits'), (tend) =>
        withServer(tendServer('digits-token'), (tokenServer) =>
          withOptionalServer(
            'versions' in peerProbe ? () => startFastApiPeer(digits.model.path, ctx.workDir) : noPeer,
            async (peer) => {
              const infer = (s: ChildServer): string => `${s.baseUrl}/v2/models/digits/infer`;
              const token = await createInferToken(tokenServer.baseUrl);
              const tokenScript = writePostScript(ctx.workDir, 'digits-token', digits.body, {
                Authorization: `Bearer ${token}`,
              });
              const expected = ['probabilities', 'label'];
              await checkInferEndpoint(infer(ceiling), digits.body, expected);
              await checkInferEndpoint(infer(tend), digits.body, expected);
              await checkInferEndpoint(infer(tokenServer), digits.body, expected, {
                authorization: `Bearer ${token}`,
              });
              if (peer !== null) await checkPeerAgrees(infer(peer), infer(tend), digits.body);
              const targets: LoadTarget[] = [
                { label: 'fastify ceiling', url: infer(ceiling), scriptPath: ceilingScript },
                {
                  label: 'tend digits',
                  url: infer(tend),
                  scriptPath: digitsScript,
                  batchCounter: () => readBatchCounter(tend.baseUrl, 'digits'),
                },
                { label: 'tend digits + token', url: infer(tokenServer), scriptPath: tokenScript },
              ];
              if (peer !== null)
                targets.push({ label: 'fastapi+pytorch', url: infer(peer), scriptPath: ceilingScript });
              const out = {
                ceiling: [] as LoadFigure[],
                digits: [] as LoadFigure[],
                token: [] as LoadFigure[],
              };
              const peerFigures: LoadFigure[] = [];
              for (const c of HTTP_CONCURRENCIES) {
                const [bare, served, withToken, python] = await measureInterleaved(targets, c, ctx.load);
                if (bare) out.ceiling.push(bare);
                if (served) out.digits.push(served);
                if (withToken) out.token.push(withToken);
                if (python) peerFigures.push(python);
              }
              return {
                ...out,
                peer:
                  'versions' in peerProbe
                    ? { figures: peerFigures, versions: peerProbe.versions }
                    : { skipped: peerProbe.missing },
              };
            },
          ),
        ),
      ),
  );
}

/** The peer must compute what tend computes: same label, probabilities within float tolerance. */
async function checkPeerAgrees(peerUrl: string, tendUrl: string, body: string): Promise<void> {
  const ask = async (url: string) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json = (await res.json()) as { outputs: { name: string; data: number[] }[] };
    const get = (name: string): number[] => json.outputs.find((o) => o.name === name)?.data ?? [];
    return { probabilities: get('probabilities'), label: get('label') };
  };
  const [peer, tend] = [await ask(peerUrl), await ask(tendUrl)];
  const maxDiff = Math.max(...tend.probabilities.map((p, i) => Math.abs(p - (peer.probabilities[i] ?? NaN))));
  if (!(maxDiff < 1e-4) || peer.label[0] !== tend.label[0])
    throw new Error(
      `the FastAPI peer answers differently from tend (label ${peer.label[0]} vs ${tend.label[0]}, max |Δp| ${maxDiff})`,
    );
}

/** `withServer` for a server that may not start (null: not available here). */
async function withOptionalServer<T>(
  start: () => Promise<ChildServer | null>,
  use: (server: ChildServer | null) => Promise<T>,
): Promise<T> {
  const server = await start();
  try {
    return await use(server);
  } finally {
    await server?.stop();
  }
}

/** Write `<repo>/<name>/1/model.onnx` (a copy, so the server may not touch the fixture) and its config. */
export function addToRepository(
  repo: string,
  name: string,
  modelPath: string,
  config: ModelConfig | null,
): void {
  const versionDir = join(repo, name, '1');
  mkdirSync(versionDir, { recursive: true });
  copyFileSync(modelPath, join(versionDir, 'model.onnx'));
  if (config !== null) writeFileSync(join(repo, name, 'config.yaml'), toYaml(config));
}

/** (c) raw onnxruntime items/s over batch sizes, for each model. */
export async function runComputeCeilings(
  ctx: SectionContext,
  models: readonly BenchModel[],
): Promise<ComputeCeiling[]> {
  const out: ComputeCeiling[] = [];
  for (const model of models) {
    ctx.log(`compute ceiling of ${model.name}`);
    out.push(
      await measureComputeCeiling(model, {
        runs: ctx.computeRuns,
        secondsPerRun: ctx.computeSecondsPerRun,
        intraOpThreads: COMPUTE_INTRA_OP_THREADS,
        allowSpinning: false,
        log: ctx.log,
        // Other jobs share the machine in bursts: a sample they disturbed is taken again.
        guard: async (label, sample) =>
          (
            await measureUndisturbed(
              label,
              {
                serverPid: null,
                otherCoresLimit: OTHER_CORES_LIMIT,
                maxAttempts: MAX_ATTEMPTS,
                log: ctx.log,
              },
              sample,
            )
          ).value,
      }),
    );
  }
  return out;
}

export interface BatchingMode {
  label: string;
  /** null = dynamic batching off. */
  delayUs: number | null;
}

export interface BatchingRow {
  model: string;
  mode: BatchingMode;
  maxBatchSize: number;
  figure: LoadFigure;
}

export function batchingModes(): BatchingMode[] {
  return [
    ...BATCHING_DELAYS_US.map((delayUs) => ({ label: `on, delay ${delayUs} µs`, delayUs })),
    { label: 'off', delayUs: null },
  ];
}

/** The model config of a batching mode: one instance, intra-op threads as the compute ceilings. */
export function batchingConfig(mode: BatchingMode): ModelConfig {
  return {
    max_batch_size: BATCHING_MAX_BATCH_SIZE,
    dynamic_batching:
      mode.delayUs === null
        ? false
        : {
            max_queue_delay_microseconds: mode.delayUs,
            preferred_batch_size: [],
            max_queue_size: 1024,
            default_timeout_microseconds: 0,
            priority_levels: 1,
          },
    instance_group: [{ count: 1, isolation: 'thread' }],
    parameters: { intra_op_thread_count: COMPUTE_INTRA_OP_THREADS, graph_optimization_level: 'all' },
  };
}

/** (d) batch-1 requests from 16 clients, one server per batching mode serving all the models. */
export async function runBatching(
  ctx: SectionContext,
  models: readonly BenchModel[],
): Promise<BatchingRow[]> {
  const rows: BatchingRow[] = [];
  const bodies = new Map(models.map((m) => [m.name, v2JsonBody(m.makeInputs(1))]));
  const scripts = new Map(
    models.map((m) => [m.name, writePostScript(ctx.workDir, `batching-${m.name}`, bodies.get(m.name) ?? '')]),
  );
  for (const [index, mode] of batchingModes().entries()) {
    const repo = join(ctx.workDir, `repo-batching-${index}`);
    for (const model of models) addToRepository(repo, model.name, model.path, batchingConfig(mode));
    await withServer(
      () =>
        startTendServer({
          name: `batching-${index}`,
          repos: [repo],
          home: join(ctx.workDir, `home-batching-${index}`),
          logDir: ctx.workDir,
        }),
      async (server) => {
        for (const model of models) {
          const url = `${server.baseUrl}/v2/models/${model.name}/infer`;
          const body = bodies.get(model.name) ?? '';
          await checkInferEndpoint(url, body, []);
          const counter = () => readBatchCounter(server.baseUrl, model.name);
          const label = `${model.name} batching ${mode.label}`;
          const figure = await measureLoad(
            label,
            url,
            scripts.get(model.name) ?? '',
            BATCHING_CLIENTS,
            ctx.load,
            counter,
          );
          rows.push({ model: model.name, mode, maxBatchSize: BATCHING_MAX_BATCH_SIZE, figure });
        }
      },
    );
  }
  return rows;
}

/** (e) RSS over load/unload cycles in this process. */
export async function runMemory(ctx: SectionContext, model: BenchModel): Promise<MemoryResult> {
  ctx.log(`memory: ${ctx.memoryCycles} load/unload cycles of ${model.name}`);
  return measureReloadMemory(model, ctx.memoryCycles, ctx.memoryReferenceCycle, ctx.log);
}
