/**
 * Section 6: what a shadow costs the caller. One `tend serve` holds one endpoint, `digits`, with two
 * versions of the same trained network, both loaded all the time. Between wrk runs the endpoint's
 * shadow route is switched on (`{champion: 1, shadow: {version: 2}}`) or off (`{champion: 1}`)
 * through the deployments API, so the caller's side is the same process, endpoint, champion worker
 * and batcher in every run and the shadow alone differs. Each round at a concurrency runs three
 * states — off, on, off again — in an order rotated from round to round; "off again" against "off"
 * is an A/A control: how far two runs of the same thing differ on this machine now. A run during
 * which other processes took CPU is measured again (cpu-accounting.ts), and the server's CPU time
 * per request is recorded: a cost of the shadow that noise moves much less than latency.
 */
import { join } from 'node:path';
import { Registry } from '../src/registry/index.js';
import { MAX_ATTEMPTS, measureUndisturbed, OTHER_CORES_LIMIT } from './cpu-accounting.js';
import { checkInferEndpoint, summarize, type LoadFigure, type LoadPlan } from './http-load.js';
import { digitsArtifact, HTTP_CONCURRENCIES, withServer, type SectionContext } from './sections.js';
import { startTendServer } from './servers.js';
import { median } from './statistics.js';
import { runWrk, writePostScript, type WrkResult } from './wrk.js';

export interface ShadowLevel {
  connections: number;
  /** Shadow route off. */
  off: LoadFigure;
  /** Shadow route on. */
  on: LoadFigure;
  /** Shadow route off, a second set of runs in the same rounds: the A/A control. */
  control: LoadFigure;
  /** What the shadow did during this level's measured runs (difference of the tallies). */
  tally: ShadowTally | null;
  /** The server process's CPU microseconds per answered request (median over the runs); null without /proc. */
  serverCpuUs: { off: number | null; on: number | null; control: number | null };
  /** Measured runs kept although other processes took more CPU than allowed during them. */
  disturbedRuns: number;
}

/** The shadow comparison the server reports (GET /api/v1/deployments/digits). */
export interface ShadowTally {
  compared: number;
  skipped: number;
  /** Part of `skipped` dropped after waiting too long for the champion to go idle. */
  skippedExpired: number;
  /** Part of `skipped` not mirrored because the server's main thread was busy (max_main_thread_share). */
  skippedBusy: number;
  deferred: number;
  errors: number;
  agreementRate: number | null;
  maxAbsDiff: number | null;
}

/** The scheduler's bounds, for the section's text. */
export interface ShadowBounds {
  maxPending: number;
  maxWaitMs: number;
  maxBatchMs: number;
  /** Busy share of the main thread above which nothing is mirrored. */
  maxLoopShare: number;
  loopWindowMs: number;
}

export interface ShadowResult {
  levels: ShadowLevel[];
  /** The tally over the whole section. */
  tally: ShadowTally | null;
  bounds: ShadowBounds;
}

const ENDPOINT = 'digits';
const OFF = { champion: 1 };
const ON = { champion: 1, shadow: { version: 2 } };
/** Pause after a switch: mirrored requests of the previous run finish before the next run starts. */
const SETTLE_MS = 300;

type State = 'off' | 'on' | 'control';
const STATES: readonly State[] = ['off', 'on', 'control'];

/** Register the endpoint's two versions and its routes (shadow off) in a fresh registry home. */
async function prepareHome(home: string, modelPath: string): Promise<void> {
  const registry = await Registry.open(home);
  try {
    await registry.models.push(modelPath, { name: ENDPOINT });
    await registry.models.push(modelPath, { name: ENDPOINT });
    await registry.deployments.put(ENDPOINT, OFF, { action: 'put' });
  } finally {
    await registry.close();
  }
}

async function setShadow(baseUrl: string, on: boolean): Promise<void> {
  const res = await fetch(`${baseUrl}/api/v1/deployments/${ENDPOINT}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'x-tend-actor': 'bench' },
    body: JSON.stringify(on ? ON : OFF),
  });
  if (!res.ok) throw new Error(`PUT shadow ${on ? 'on' : 'off'} answered ${res.status}: ${await res.text()}`);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
}

async function readTally(baseUrl: string): Promise<ShadowTally | null> {
  const res = await fetch(`${baseUrl}/api/v1/deployments/${ENDPOINT}`);
  if (!res.ok) return null;
  const body = (await res.json()) as {
    shadow?: {
      count: number;
      skipped: number;
      skipped_expired?: number;
      skipped_busy?: number;
      deferred?: number;
      shadow_errors: number;
      agreement_rate: number | null;
      max_abs_diff: number | null;
    } | null;
  };
  const s = body.shadow;
  if (!s) return null;
  return {
    compared: s.count,
    skipped: s.skipped,
    skippedExpired: s.skipped_expired ?? 0,
    skippedBusy: s.skipped_busy ?? 0,
    deferred: s.deferred ?? 0,
    errors: s.shadow_errors,
    agreementRate: s.agreement_rate,
    maxAbsDiff: s.max_abs_diff,
  };
}

/** The counts of `after` minus `before` (the comparison figures are those of `after`). */
export function tallyDelta(before: ShadowTally | null, after: ShadowTally | null): ShadowTally | null {
  if (after === null) return null;
  if (before === null) return after;
  return {
    compared: after.compared - before.compared,
    skipped: after.skipped - before.skipped,
    skippedExpired: after.skippedExpired - before.skippedExpired,
    skippedBusy: after.skippedBusy - before.skippedBusy,
    deferred: after.deferred - before.deferred,
    errors: after.errors - before.errors,
    agreementRate: after.agreementRate,
    maxAbsDiff: after.maxAbsDiff,
  };
}

/** The order of the three states in round `round`: rotated, so each takes each place in turn. */
export function roundOrder(round: number): State[] {
  const k = round % STATES.length;
  return [...STATES.slice(k), ...STATES.slice(0, k)];
}

/** One concurrency: a warm-up of each state, then `plan.runs` rounds of off / on / off again. */
async function measureLevel(
  baseUrl: string,
  serverPid: number,
  url: string,
  scriptPath: string,
  connections: number,
  plan: LoadPlan,
): Promise<Omit<ShadowLevel, 'tally'>> {
  const runs: Record<State, WrkResult[]> = { off: [], on: [], control: [] };
  const cpuUs: Record<State, number[]> = { off: [], on: [], control: [] };
  let disturbedRuns = 0;
  const policy = {
    serverPid,
    otherCoresLimit: OTHER_CORES_LIMIT,
    maxAttempts: MAX_ATTEMPTS,
    log: plan.log,
  };
  const wrk = (durationSeconds: number): Promise<WrkResult> =>
    runWrk({ url, scriptPath, connections, durationSeconds });
  if (plan.warmupSeconds > 0) {
    for (const on of [true, false]) {
      await setShadow(baseUrl, on);
      await wrk(plan.warmupSeconds);
    }
  }
  let shadowOn = false;
  for (let round = 0; round < plan.runs; round++) {
    for (const state of roundOrder(round)) {
      if ((state === 'on') !== shadowOn) {
        shadowOn = state === 'on';
        await setShadow(baseUrl, shadowOn);
      }
      const measured = await measureUndisturbed(`shadow ${state} c=${connections}`, policy, () =>
        wrk(plan.durationSeconds),
      );
      const result = measured.value;
      runs[state].push(result);
      if (measured.disturbed) disturbedRuns += 1;
      const shares = measured.shares;
      if (shares !== null && result.requests > 0)
        cpuUs[state].push((1e6 * shares.serverCores * shares.wallSeconds) / result.requests);
      const failures = result.non2xx + result.socketErrors;
      plan.log(
        `  shadow ${state} c=${connections} round ${round + 1}/${plan.runs}: ${result.requestsPerSecond.toFixed(0)} req/s, ` +
          `p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms` +
          (failures > 0 ? `, ${failures} FAILED` : '') +
          (measured.disturbed ? ' (DISTURBED)' : ''),
      );
    }
  }
  const cpu = (state: State): number | null => (cpuUs[state].length > 0 ? median(cpuUs[state]) : null);
  if (shadowOn) await setShadow(baseUrl, false);
  return {
    connections,
    off: summarize(connections, runs.off, null),
    on: summarize(connections, runs.on, null),
    control: summarize(connections, runs.control, null),
    serverCpuUs: { off: cpu('off'), on: cpu('on'), control: cpu('control') },
    disturbedRuns,
  };
}

/** Caller latency and throughput with the shadow on vs off (and off vs off), at each HTTP concurrency. */
export async function runShadow(ctx: SectionContext, bounds: ShadowBounds): Promise<ShadowResult> {
  const digits = digitsArtifact(ctx);
  const home = join(ctx.workDir, 'home-shadow');
  await prepareHome(home, digits.model.path);
  const script = writePostScript(ctx.workDir, 'shadow', digits.body);
  return withServer(
    () => startTendServer({ name: 'shadow', repos: [], home, logDir: ctx.workDir }),
    async (tend) => {
      const url = `${tend.baseUrl}/v2/models/${ENDPOINT}/infer`;
      await checkInferEndpoint(url, digits.body, ['probabilities', 'label']);
      await setShadow(tend.baseUrl, true);
      await checkInferEndpoint(url, digits.body, ['probabilities', 'label']);
      await setShadow(tend.baseUrl, false);
      const levels: ShadowLevel[] = [];
      for (const c of HTTP_CONCURRENCIES) {
        const before = await readTally(tend.baseUrl);
        const level = await measureLevel(tend.baseUrl, tend.pid, url, script, c, ctx.load);
        const tally = tallyDelta(before, await readTally(tend.baseUrl));
        if (tally)
          ctx.log(
            `  shadow c=${c}: ${tally.compared} compared, ${tally.skipped} skipped (${tally.skippedExpired} expired), ${tally.deferred} deferred`,
          );
        levels.push({ ...level, tally });
      }
      return { levels, tally: await readTally(tend.baseUrl), bounds };
    },
  );
}
