/**
 * Which requests get logged: a sampling rate (default 1.0: all) and an optional cap on logged requests
 * per second. Decided per request, so every row of a multi-row request is logged or none is.
 */
import { errors } from '../core/errors.js';

export interface PredictionSamplerOptions {
  /** Fraction of requests to log, 0..1 (default 1). */
  rate?: number;
  /** At most this many logged requests per second (token bucket, burst of one second). */
  maxPerSecond?: number;
  /** Uniform random numbers in [0, 1); default Math.random. */
  random?: () => number;
  /** Clock in ms; default performance.now. */
  now?: () => number;
}

/** Decides, cheaply, whether a request is logged. */
export class PredictionSampler {
  private readonly rate: number;
  private readonly maxPerSecond: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private tokens: number;
  private refilledAtMs: number;

  constructor(options: PredictionSamplerOptions = {}) {
    const rate = options.rate ?? 1;
    if (!(rate >= 0 && rate <= 1))
      throw errors.invalidConfig(`sampling rate must be between 0 and 1, got ${rate}`);
    const maxPerSecond = options.maxPerSecond ?? Infinity;
    if (!(maxPerSecond > 0)) {
      throw errors.invalidConfig(
        `the logging rate cap must be a positive number of requests per second, got ${maxPerSecond}`,
      );
    }
    this.rate = rate;
    this.maxPerSecond = maxPerSecond;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => performance.now());
    this.tokens = Number.isFinite(maxPerSecond) ? maxPerSecond : 0;
    this.refilledAtMs = this.now();
  }

  /** True when this request should be logged. */
  take(): boolean {
    if (this.rate < 1 && !(this.random() < this.rate)) return false;
    if (this.maxPerSecond === Infinity) return true;
    const now = this.now();
    this.tokens = Math.min(
      this.maxPerSecond,
      this.tokens + ((now - this.refilledAtMs) * this.maxPerSecond) / 1000,
    );
    this.refilledAtMs = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
