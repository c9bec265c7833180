/**
 * The automatic policy of a canary: from the live outcomes of champion- and canary-routed requests
 * of one deployment revision, decide to roll the canary back (its error rate or p99 latency past
 * the champion's by the policy's margin) or to promote it (enough requests and time within bounds).
 */
import type { CanaryPolicy } from '../../core/deployment.js';
import { nearestRank } from '../../core/percentile.js';

export const CANARY_POLICY_DEFAULTS = {
  auto_rollback: true,
  min_requests: 100,
  max_error_rate_increase: 0.05,
} as const;

/** Latencies kept per side for the p99 (the most recent ones). */
const WINDOW = 2000;

class Side {
  requests = 0;
  errors = 0;
  private readonly latencies = new Float64Array(WINDOW);
  private filled = 0;
  private next = 0;

  record(ok: boolean, latencyMs: number): void {
    this.requests++;
    if (!ok) this.errors++;
    else {
      this.latencies[this.next] = latencyMs;
      this.next = (this.next + 1) % WINDOW;
      this.filled = Math.min(this.filled + 1, WINDOW);
    }
  }

  get errorRate(): number {
    return this.requests === 0 ? 0 : this.errors / this.requests;
  }

  /** p99 of the successful requests' latencies, or undefined with fewer than 20 of them. */
  p99(): number | undefined {
    if (this.filled < 20) return undefined;
    const sorted = Array.from(this.latencies.subarray(0, this.filled)).sort((a, b) => a - b);
    return nearestRank(sorted, 0.99);
  }
}

export type GuardDecision = { action: 'auto_rollback' | 'auto_promote'; reason: string } | undefined;

/** One canary (one deployment revision): outcomes in, at most one decision out. */
export class CanaryGuard {
  private readonly champion = new Side();
  private readonly canary = new Side();
  private decided = false;
  private checkedAt = 0;

  constructor(
    readonly key: string,
    private readonly policy: CanaryPolicy | undefined,
    private readonly startedMs = Date.now(),
  ) {}

  /** Record one answered (or failed) request; returns a decision once, when one is due. */
  observe(route: 'champion' | 'canary', ok: boolean, latencyMs: number, nowMs = Date.now()): GuardDecision {
    (route === 'canary' ? this.canary : this.champion).record(ok, latencyMs);
    if (this.decided || route !== 'canary') return undefined;
    // A p99 sorts the window: check at most every 25 canary requests, and on every error.
    if (ok && this.canary.requests - this.checkedAt < 25) return undefined;
    this.checkedAt = this.canary.requests;
    const decision = this.decide(nowMs);
    if (decision) this.decided = true;
    return decision;
  }

  private decide(nowMs: number): GuardDecision {
    const given = this.policy ?? {};
    const p = {
      auto_rollback: given.auto_rollback ?? CANARY_POLICY_DEFAULTS.auto_rollback,
      min_requests: given.min_requests ?? CANARY_POLICY_DEFAULTS.min_requests,
      max_error_rate_increase:
        given.max_error_rate_increase ?? CANARY_POLICY_DEFAULTS.max_error_rate_increase,
      // Off unless asked for: with bursty traffic on few cores the p99 of a 10% canary swings widely.
      max_p99_ratio: given.max_p99_ratio,
      promote_after_requests: given.promote_after_requests,
      promote_after_seconds: given.promote_after_seconds,
    };
    if (this.canary.requests < p.min_requests) return undefined;
    if (p.auto_rollback) {
      const increase = this.canary.errorRate - this.champion.errorRate;
      if (increase > p.max_error_rate_increase) {
        return {
          action: 'auto_rollback',
          reason: `canary error rate ${pct(this.canary.errorRate)} (${this.canary.errors} of ${this.canary.requests}) exceeds the champion's ${pct(this.champion.errorRate)} by more than ${pct(p.max_error_rate_increase)}`,
        };
      }
      const canaryP99 = this.canary.p99();
      const championP99 = this.champion.p99();
      const limit = p.max_p99_ratio;
      if (
        limit !== undefined &&
        canaryP99 !== undefined &&
        championP99 !== undefined &&
        championP99 > 0 &&
        canaryP99 / championP99 > limit
      ) {
        return {
          action: 'auto_rollback',
          reason: `canary p99 latency ${canaryP99.toFixed(2)} ms is ${(canaryP99 / championP99).toFixed(2)}× the champion's ${championP99.toFixed(2)} ms (limit ${limit}×)`,
        };
      }
    }
    const wantRequests = p.promote_after_requests;
    const wantSeconds = p.promote_after_seconds;
    if (wantRequests === undefined && wantSeconds === undefined) return undefined;
    const seconds = (nowMs - this.startedMs) / 1000;
    if (
      (wantRequests === undefined || this.canary.requests >= wantRequests) &&
      (wantSeconds === undefined || seconds >= wantSeconds)
    ) {
      return {
        action: 'auto_promote',
        reason: `canary answered ${this.canary.requests} requests over ${seconds.toFixed(0)} s within bounds (error rate ${pct(this.canary.errorRate)}, champion ${pct(this.champion.errorRate)})`,
      };
    }
    return undefined;
  }
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** Quality metrics where lower is better. */
const LOWER_IS_BETTER = new Set(['log_loss', 'mae', 'rmse', 'mape']);

export const QUALITY_RULE_DEFAULTS = { max_quality_drop: 0.02, min_labelled: 100 } as const;

/** One side of a quality comparison: the metric over the labelled predictions since the canary started. */
export interface QualitySide {
  labelled: number;
  value: number | null;
}

/**
 * The quality rule of a canary policy (opt-in with `quality_metric`): roll back once both sides have
 * `min_labelled` labelled predictions and the canary is worse than the champion by more than
 * `max_quality_drop` on the metric.
 */
export function qualityDecision(
  policy: CanaryPolicy | undefined,
  champion: QualitySide,
  canary: QualitySide,
): GuardDecision {
  if (policy?.quality_metric === undefined || policy.auto_rollback === false) return undefined;
  const metric = policy.quality_metric;
  const minLabelled = policy.min_labelled ?? QUALITY_RULE_DEFAULTS.min_labelled;
  const maxDrop = policy.max_quality_drop ?? QUALITY_RULE_DEFAULTS.max_quality_drop;
  if (
    champion.labelled < minLabelled ||
    canary.labelled < minLabelled ||
    champion.value === null ||
    canary.value === null
  )
    return undefined;
  const worseBy = LOWER_IS_BETTER.has(metric) ? canary.value - champion.value : champion.value - canary.value;
  if (worseBy <= maxDrop) return undefined;
  return {
    action: 'auto_rollback',
    reason:
      `canary ${metric} ${canary.value.toFixed(4)} (${canary.labelled} labelled) is worse than the champion's ${champion.value.toFixed(4)} ` +
      `(${champion.labelled} labelled) by ${worseBy.toFixed(4)}, more than ${maxDrop}`,
  };
}
