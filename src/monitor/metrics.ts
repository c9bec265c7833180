/**
 * Prometheus metrics of the inference path, named after Prometheus conventions (base units,
 * `_total`, `_seconds`) and Triton's metric set. Labels stay low-cardinality: model and version.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { BoundCounter, BoundHistogram } from './bound-metrics.js';

const LATENCY_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** The recorders of one model version. */
export interface VersionMetrics {
  success(queueNs: number, computeNs: number): void;
  failure(): void;
  rejected(): void;
  batch(items: number): void;
}

/** What one endpoint's shadow did so far (see the deployments API for the comparison itself). */
export interface ShadowCounts {
  endpoint: string;
  /** Mirrored requests whose shadow answer was compared. */
  compared: number;
  /** Mirrored requests the shadow failed. */
  errors: number;
  /** Requests not mirrored (shadow full, or waited too long for the champion to go idle). */
  skipped: number;
  /** Mirrored requests held back while the champion had callers' work. */
  deferred: number;
}

/**
 * One metrics registry per server; `pendingSource` reports queued requests per model version,
 * `shadowSource` each endpoint's shadow counts (read when scraped).
 */
export class InferenceMetrics {
  readonly registry = new Registry();
  // Recorded on every request: bound metrics, not prom-client's classes (bound-metrics.ts).
  private readonly requests: BoundCounter;
  private readonly queueSeconds: BoundHistogram;
  private readonly computeSeconds: BoundHistogram;
  private readonly requestSeconds: BoundHistogram;
  private readonly batchSize: BoundHistogram;

  constructor(
    options: {
      pendingSource?: () => Iterable<{ model: string; version: string; pending: number }>;
      shadowSource?: () => Iterable<ShadowCounts>;
      processMetrics?: boolean;
    } = {},
  ) {
    const registers = [this.registry];
    this.requests = new BoundCounter(
      'tend_inference_requests_total',
      'Inference requests by model, version and outcome (success, failure: bad input or run error, rejected: queue full, timeout or unavailable).',
      ['model', 'version', 'outcome'],
      this.registry,
    );
    this.queueSeconds = new BoundHistogram(
      'tend_inference_queue_seconds',
      'Time a request waited in the batcher queue before its batch was dispatched.',
      ['model', 'version'],
      LATENCY_BUCKETS_SECONDS,
      this.registry,
    );
    this.computeSeconds = new BoundHistogram(
      'tend_inference_compute_seconds',
      'Time the batch that carried a request took to run on its worker (round trip included).',
      ['model', 'version'],
      LATENCY_BUCKETS_SECONDS,
      this.registry,
    );
    this.requestSeconds = new BoundHistogram(
      'tend_inference_request_seconds',
      'Time from a validated request to its outputs (queue + compute).',
      ['model', 'version'],
      LATENCY_BUCKETS_SECONDS,
      this.registry,
    );
    this.batchSize = new BoundHistogram(
      'tend_batch_size',
      'Items per executed batch.',
      ['model', 'version'],
      BATCH_BUCKETS,
      this.registry,
    );
    const pendingSource = options.pendingSource;
    new Gauge({
      name: 'tend_pending_requests',
      help: 'Requests queued and not yet dispatched, per model version.',
      labelNames: ['model', 'version'],
      registers,
      collect() {
        this.reset();
        if (!pendingSource) return;
        for (const p of pendingSource()) this.set({ model: p.model, version: p.version }, p.pending);
      },
    });
    const shadowSource = options.shadowSource;
    new Counter({
      name: 'tend_shadow_requests_total',
      help: 'Champion-routed requests of an endpoint with a shadow, by outcome: compared (mirrored, answer compared), error (mirrored, the shadow failed), skipped (not mirrored: the shadow was full or the champion stayed busy). Starts over when the pair of versions changes.',
      labelNames: ['endpoint', 'outcome'],
      registers,
      collect() {
        this.reset();
        if (!shadowSource) return;
        for (const s of shadowSource()) {
          this.inc({ endpoint: s.endpoint, outcome: 'compared' }, s.compared);
          this.inc({ endpoint: s.endpoint, outcome: 'error' }, s.errors);
          this.inc({ endpoint: s.endpoint, outcome: 'skipped' }, s.skipped);
        }
      },
    });
    new Counter({
      name: 'tend_shadow_deferred_total',
      help: 'Mirrored requests that waited because the champion had callers queued or running (shadow work yields to callers).',
      labelNames: ['endpoint'],
      registers,
      collect() {
        this.reset();
        if (!shadowSource) return;
        for (const s of shadowSource()) this.inc({ endpoint: s.endpoint }, s.deferred);
      },
    });
    if (options.processMetrics !== false) {
      collectDefaultMetrics({ register: this.registry, prefix: 'tend_' });
      // prom-client names three gauges *_total, which Prometheus reserves for counters (promtool
      // check metrics warns); the same counts by type remain: sum(tend_nodejs_active_handles).
      for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
        this.registry.removeSingleMetric(`tend_nodejs_${name}`);
    }
  }

  /** Metric children bound to one model version: no label object, hash or lookup on the request path. */
  forVersion(model: string, version: string): VersionMetrics {
    const labels = { model, version };
    const success = this.requests.labels({ ...labels, outcome: 'success' });
    const failure = this.requests.labels({ ...labels, outcome: 'failure' });
    const rejected = this.requests.labels({ ...labels, outcome: 'rejected' });
    const queue = this.queueSeconds.labels(labels);
    const compute = this.computeSeconds.labels(labels);
    const request = this.requestSeconds.labels(labels);
    const batch = this.batchSize.labels(labels);
    return {
      success(queueNs, computeNs) {
        success.inc();
        queue.observe(queueNs / 1e9);
        compute.observe(computeNs / 1e9);
        request.observe((queueNs + computeNs) / 1e9);
      },
      failure: () => failure.inc(),
      rejected: () => rejected.inc(),
      batch: (items) => batch.observe(items),
    };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text for `GET /metrics`. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
