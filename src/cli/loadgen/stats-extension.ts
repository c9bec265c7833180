/**
 * Server-side times from the KServe V2 statistics extension, as perf_analyzer reports them: the
 * version's statistics are read before and after the run, and the growth of each cumulative
 * duration is divided by the growth of its count, giving the average per request.
 * `GET /v2/models/{name}/versions/{version}/stats` answers `{ model_stats: [ModelStatistics] }`.
 */

interface DurationStat {
  count: number;
  ns: number;
}

/** The part of the extension's InferStatistics that the report uses. */
export interface InferenceStatsSnapshot {
  success: DurationStat;
  fail: DurationStat;
  queue: DurationStat;
  compute_input: DurationStat;
  compute_infer: DurationStat;
  compute_output: DurationStat;
  /** Model executions (batches). */
  execution_count: number;
  /** Rows answered. */
  inference_count: number;
}

/** Averages per successful request over the run, in microseconds. */
export interface ServerSideTimes {
  /** Successful requests the server counted during the run (warm-up included). */
  requests: number;
  failed_requests: number;
  /** Model executions during the run: requests / executions is the mean batch the batcher formed. */
  executions: number;
  /** From arrival at the engine to outputs ready. */
  request_us: number;
  queue_us: number;
  compute_input_us: number;
  compute_infer_us: number;
  compute_output_us: number;
}

function isDuration(value: unknown): value is DurationStat {
  const v = value as Partial<DurationStat> | null;
  return typeof v === 'object' && v !== null && typeof v.count === 'number' && typeof v.ns === 'number';
}

/** The statistics of one version from the extension's answer, or null when it lacks them. */
export function parseStatistics(body: unknown): InferenceStatsSnapshot | null {
  const first = (body as { model_stats?: unknown[] } | null)?.model_stats?.[0] as
    | { inference_stats?: Record<string, unknown>; execution_count?: unknown; inference_count?: unknown }
    | undefined;
  const s = first?.inference_stats;
  if (s === undefined) return null;
  const keys = ['success', 'fail', 'queue', 'compute_input', 'compute_infer', 'compute_output'] as const;
  if (!keys.every((k) => isDuration(s[k]))) return null;
  return {
    success: s['success'] as DurationStat,
    fail: s['fail'] as DurationStat,
    queue: s['queue'] as DurationStat,
    compute_input: s['compute_input'] as DurationStat,
    compute_infer: s['compute_infer'] as DurationStat,
    compute_output: s['compute_output'] as DurationStat,
    execution_count: typeof first?.execution_count === 'number' ? first.execution_count : 0,
    inference_count: typeof first?.inference_count === 'number' ? first.inference_count : 0,
  };
}

/** Read a version's statistics; null when the server does not answer them (the report then says so). */
export async function fetchStatistics(
  baseUrl: string,
  model: string,
  version: string,
  headers: Record<string, string> = {},
): Promise<InferenceStatsSnapshot | null> {
  const url = `${baseUrl}/v2/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}/stats`;
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return null;
    return parseStatistics(await res.json());
  } catch {
    return null;
  }
}

/** Growth of a cumulative duration over the growth of its count, in µs; 0 when nothing was counted. */
function averageUs(before: DurationStat, after: DurationStat): number {
  const count = after.count - before.count;
  return count > 0 ? (after.ns - before.ns) / count / 1000 : 0;
}

/** The averages per request between two snapshots (null when either is missing). */
export function serverSideTimes(
  before: InferenceStatsSnapshot | null,
  after: InferenceStatsSnapshot | null,
): ServerSideTimes | null {
  if (before === null || after === null) return null;
  return {
    requests: after.success.count - before.success.count,
    failed_requests: after.fail.count - before.fail.count,
    executions: after.execution_count - before.execution_count,
    request_us: averageUs(before.success, after.success),
    queue_us: averageUs(before.queue, after.queue),
    compute_input_us: averageUs(before.compute_input, after.compute_input),
    compute_infer_us: averageUs(before.compute_infer, after.compute_infer),
    compute_output_us: averageUs(before.compute_output, after.compute_output),
  };
}
