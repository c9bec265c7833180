/**
 * Section 13: is `tend bench` a load generator to trust? It and wrk load the same `tend serve`
 * (digits model, V2 JSON) with 8 connections, alternately, and their p99 latencies are compared:
 * a load generator short of CPU, or one that measures its own queueing, reports a higher p99 than
 * the server gives. `tend bench` runs as users run it (`node bin/tend.js bench … --json`, a child
 * process), and reports the CPU it used.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LevelSummary } from '../src/cli/loadgen/level-summary.js';
import { checkInferEndpoint } from './http-load.js';
import { addToRepository, digitsArtifact, withServer, type SectionContext } from './sections.js';
import { REPO_ROOT, startTendServer } from './servers.js';
import { median } from './statistics.js';
import { runWrk, writePostScript } from './wrk.js';

export const LOADGEN_CONNECTIONS = 8;

export interface LoadgenRun {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** tend bench only: CPU the load generator used, in cores. */
  clientCpuCores: number | null;
}

export interface LoadgenResult {
  connections: number;
  durationSeconds: number;
  wrk: LoadgenRun[];
  tend: LoadgenRun[];
  /** Medians over the runs. */
  wrkP99Ms: number;
  tendP99Ms: number;
}

/** Run `tend bench` once (closed loop, one level) and read its JSON. */
export async function runTendBench(
  baseUrl: string,
  dataPath: string,
  connections: number,
  durationSeconds: number,
): Promise<LoadgenRun> {
  const args = [
    join(REPO_ROOT, 'bin', 'tend.js'),
    'bench',
    'digits',
    '--url',
    baseUrl,
    '--data',
    dataPath,
    '--concurrency',
    String(connections),
    '--duration',
    `${durationSeconds}s`,
    '--warmup',
    '0s',
    '--json',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`tend bench exited with ${code}: ${stderr.trim() || stdout.trim()}`);
  const level = (JSON.parse(stdout) as { levels: LevelSummary[] }).levels[0];
  if (level === undefined) throw new Error(`tend bench printed no level: ${stdout.slice(0, 300)}`);
  return {
    requestsPerSecond: level.throughput_rps,
    p50Ms: level.latency_ms.p50,
    p99Ms: level.latency_ms.p99,
    failures: level.errors,
    clientCpuCores: level.client_cpu_cores,
  };
}

/** wrk -c8 and tend bench -c8 against one server, alternately, `ctx.load.runs` times each. */
export async function runLoadgen(ctx: SectionContext): Promise<LoadgenResult> {
  const digits = digitsArtifact(ctx);
  const repo = join(ctx.workDir, 'repo-loadgen');
  addToRepository(repo, 'digits', digits.model.path, null);
  const script = writePostScript(ctx.workDir, 'loadgen', digits.body);
  const dataPath = join(ctx.workDir, 'loadgen.request.json');
  writeFileSync(dataPath, digits.body);
  const connections = LOADGEN_CONNECTIONS;
  const durationSeconds = ctx.load.durationSeconds;
  return withServer(
    () =>
      startTendServer({
        name: 'loadgen',
        repos: [repo],
        home: join(ctx.workDir, 'home-loadgen'),
        logDir: ctx.workDir,
      }),
    async (server) => {
      const url = `${server.baseUrl}/v2/models/digits/infer`;
      await checkInferEndpoint(url, digits.body, ['probabilities', 'label']);
      if (ctx.load.warmupSeconds > 0)
        await runWrk({ url, scriptPath: script, connections, durationSeconds: ctx.load.warmupSeconds });
      const wrk: LoadgenRun[] = [];
      const tend: LoadgenRun[] = [];
      const show = (who: string, i: number, r: LoadgenRun): void =>
        ctx.log(
          `  ${who} c=${connections} run ${i + 1}/${ctx.load.runs}: ${r.requestsPerSecond.toFixed(0)} req/s, ` +
            `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms` +
            (r.clientCpuCores !== null ? `, client CPU ${r.clientCpuCores.toFixed(2)} cores` : '') +
            (r.failures > 0 ? `, ${r.failures} FAILED` : ''),
        );
      for (let i = 0; i < ctx.load.runs; i++) {
        const w = await runWrk({ url, scriptPath: script, connections, durationSeconds });
        wrk.push({
          requestsPerSecond: w.requestsPerSecond,
          p50Ms: w.latencyMs.p50,
          p99Ms: w.latencyMs.p99,
          failures: w.non2xx + w.socketErrors,
          clientCpuCores: null,
        });
        show('wrk       ', i, wrk[i] as LoadgenRun);
        tend.push(await runTendBench(server.baseUrl, dataPath, connections, durationSeconds));
        show('tend bench', i, tend[i] as LoadgenRun);
      }
      return {
        connections,
        durationSeconds,
        wrk,
        tend,
        wrkP99Ms: median(wrk.map((r) => r.p99Ms)),
        tendP99Ms: median(tend.map((r) => r.p99Ms)),
      };
    },
  );
}
