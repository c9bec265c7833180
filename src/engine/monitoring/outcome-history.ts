/**
 * The counters of each served version (successes, failures, rows, runs) sampled over time, so that
 * error rates and batch sizes can be read over a window from cumulative counters.
 */
import type { CounterSample } from './dashboard-series.js';
import type { ServedVersion } from '../serving/served-version.js';

/** Counter samples per version, oldest first. */
export class OutcomeHistory {
  private readonly byVersion = new Map<string, CounterSample[]>();

  /** Sample the version's counters now; samples older than 25 h go (the last two always stay). */
  record(sv: ServedVersion): void {
    const snapshot = sv.stats.snapshot(sv.model, String(sv.version));
    const s = snapshot.inference_stats;
    const key = `${sv.model}\u0000${sv.version}`;
    const list = this.byVersion.get(key) ?? [];
    list.push({
      t: Date.now(),
      ok: s.success.count,
      failed: s.fail.count,
      rows: snapshot.inference_count,
      runs: snapshot.execution_count,
    });
    while (list.length > 2 && (list[0]?.t ?? 0) < Date.now() - 25 * 3_600_000) list.shift();
    this.byVersion.set(key, list);
  }

  /** The samples of one version, oldest first (empty before the first). */
  samples(model: string, version: number): CounterSample[] {
    return this.byVersion.get(`${model}\u0000${version}`) ?? [];
  }
}
