/**
 * One HTTP figure = the median of several wrk runs against one endpoint at one concurrency, after a
 * discarded warm-up run. Failed answers are counted, never hidden: a figure with failures fails
 * whatever target it feeds.
 */
import { median } from './statistics.js';
import { runWrk, type WrkResult } from './wrk.js';

export interface LoadFigure {
  connections: number;
  runs: WrkResult[];
  /** Medians over the runs. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx answers and socket errors over all measured runs. */
  failures: number;
  /** Items per batch the server ran during the measured runs (from its metrics), when known. */
  meanBatchSize: number | null;
}

export interface LoadPlan {
  runs: number;
  durationSeconds: number;
  warmupSeconds: number;
  log: (line: string) => void;
}

/** Measure `url` (POST of the body in `scriptPath`) at `connections` clients. */
export async function measureLoad(
  label: string,
  url: string,
  scriptPath: string,
  connections: number,
  plan: LoadPlan,
  batchCounter?: () => Promise<BatchCounter | null>,
): Promise<LoadFigure> {
  if (plan.warmupSeconds > 0) {
    await runWrk({ url, scriptPath, connections, durationSeconds: plan.warmupSeconds });
  }
  const before = batchCounter ? await batchCounter() : null;
  const runs: WrkResult[] = [];
  for (let i = 0; i < plan.runs; i++) {
    const result = await runWrk({ url, scriptPath, connections, durationSeconds: plan.durationSeconds });
    runs.push(result);
    const failures = result.non2xx + result.socketErrors;
    plan.log(
      `  ${label} c=${connections} run ${i + 1}/${plan.runs}: ${result.requestsPerSecond.toFixed(0)} req/s, ` +
        `p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms` +
        (failures > 0 ? `, ${failures} FAILED` : ''),
    );
  }
  const after = batchCounter ? await batchCounter() : null;
  const batches = before !== null && after !== null ? after.batches - before.batches : 0;
  const meanBatchSize =
    batches > 0 && before !== null && after !== null ? (after.items - before.items) / batches : null;
  if (meanBatchSize !== null) plan.log(`  ${label} c=${connections}: mean batch ${meanBatchSize.toFixed(2)}`);
  return summarize(connections, runs, meanBatchSize);
}

/** Medians over `runs` at one concurrency, failures summed. */
export function summarize(connections: number, runs: WrkResult[], meanBatchSize: number | null): LoadFigure {
  return {
    connections,
    runs,
    meanBatchSize,
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    p50Ms: median(runs.map((r) => r.latencyMs.p50)),
    p99Ms: median(runs.map((r) => r.latencyMs.p99)),
    failures: runs.reduce((sum, r) => sum + r.non2xx + r.socketErrors, 0),
  };
}

export interface LoadTarget {
  label: string;
  url: string;
  scriptPath: string;
  batchCounter?: () => Promise<BatchCounter | null>;
}

/**
 * Measure several endpoints at one concurrency with their runs interleaved (A1 B1 A2 B2 ...), so a
 * slow moment of a shared machine hits a figure and its baseline alike.
 */
export async function measureInterleaved(
  targets: readonly LoadTarget[],
  connections: number,
  plan: LoadPlan,
): Promise<LoadFigure[]> {
  if (plan.warmupSeconds > 0) {
    for (const t of targets)
      await runWrk({
        url: t.url,
        scriptPath: t.scriptPath,
        connections,
        durationSeconds: plan.warmupSeconds,
      });
  }
  const before = await Promise.all(
    targets.map((t) => (t.batchCounter ? t.batchCounter() : Promise.resolve(null))),
  );
  const runs: WrkResult[][] = targets.map(() => []);
  for (let i = 0; i < plan.runs; i++) {
    for (const [j, t] of targets.entries()) {
      const result = await runWrk({
        url: t.url,
        scriptPath: t.scriptPath,
        connections,
        durationSeconds: plan.durationSeconds,
      });
      runs[j]?.push(result);
      const failures = result.non2xx + result.socketErrors;
      plan.log(
        `  ${t.label} c=${connections} run ${i + 1}/${plan.runs}: ${result.requestsPerSecond.toFixed(0)} req/s, ` +
          `p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms` +
          (failures > 0 ? `, ${failures} FAILED` : ''),
      );
    }
  }
  const figures: LoadFigure[] = [];
  for (const [j, t] of targets.entries()) {
    const b = before[j] ?? null;
    const a = t.batchCounter ? await t.batchCounter() : null;
    const batches = b !== null && a !== null ? a.batches - b.batches : 0;
    const meanBatchSize = batches > 0 && b !== null && a !== null ? (a.items - b.items) / batches : null;
    if (meanBatchSize !== null)
      plan.log(`  ${t.label} c=${connections}: mean batch ${meanBatchSize.toFixed(2)}`);
    figures.push(summarize(connections, runs[j] ?? [], meanBatchSize));
  }
  return figures;
}

/**
 * Send the body once and check the answer before loading the endpoint: a benchmark of error
 * responses would measure nothing.
 */
export async function checkInferEndpoint(
  url: string,
  body: string,
  expectedOutputs: readonly string[],
  headers: Record<string, string> = {},
): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  let names: string[];
  try {
    const parsed = JSON.parse(text) as { outputs?: { name?: unknown }[] };
    names = (parsed.outputs ?? []).map((o) => String(o.name));
  } catch {
    throw new Error(`POST ${url} did not answer JSON: ${text.slice(0, 300)}`);
  }
  for (const name of expectedOutputs) {
    if (!names.includes(name))
      throw new Error(`POST ${url} answered no output '${name}' (got ${names.join(', ')})`);
  }
}

export interface BatchCounter {
  /** Batches the server ran for the model so far. */
  batches: number;
  /** Items in those batches. */
  items: number;
}

/** Read tend's `tend_batch_size` histogram totals for `model` from its /metrics page (null when absent). */
export async function readBatchCounter(
  baseUrl: string,
  model: string,
  headers: Record<string, string> = {},
): Promise<BatchCounter | null> {
  const res = await fetch(`${baseUrl}/metrics`, { headers });
  const text = await res.text();
  return res.status === 200 ? parseBatchCounter(text, model) : null;
}

/** The `tend_batch_size` totals of `model` (all versions) in Prometheus text, or null when absent. */
export function parseBatchCounter(text: string, model: string): BatchCounter | null {
  const total = (suffix: 'sum' | 'count'): number | null => {
    let found: number | null = null;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`tend_batch_size_${suffix}{`) || !line.includes(`model="${model}"`)) continue;
      found = (found ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return found;
  };
  const batches = total('count');
  const items = total('sum');
  return batches === null || items === null ? null : { batches, items };
}
