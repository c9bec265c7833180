/**
 * A counter and a histogram for the inference path, registered in a prom-client Registry (which
 * formats them exactly as its own) but recorded without prom-client's per-call work: a child is
 * bound to one label set once, and then `inc()` / `observe(v)` are a few arithmetic operations, with
 * no label object, hash string or map lookup per call (prom-client's bound children still do all
 * three). Used where a metric is recorded on every request; the rest keep prom-client's classes.
 */
import type { Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

/** One value of a metric, in the shape prom-client's Registry formats. */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
  /** prom-client's histogram buckets carry `exemplar: null` when exemplars are off. */
  exemplar?: null;
}

/** What prom-client's Registry reads from a registered metric. */
interface MetricData {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: MetricValue[];
  aggregator: 'sum';
}

function checkLabels(metric: string, labelNames: readonly string[], labels: Labels): void {
  const given = Object.keys(labels);
  const unknown = given.filter((l) => !labelNames.includes(l));
  if (unknown.length > 0 || given.length !== labelNames.length)
    throw new Error(
      `metric ${metric}: labels must be exactly ${labelNames.join(', ')} (got ${given.join(', ') || 'none'})`,
    );
}

/** Children in the order they were first bound, one per label set. */
class Children<C> {
  private readonly byKey = new Map<string, { labels: Labels; child: C }>();

  constructor(
    private readonly metric: string,
    private readonly labelNames: readonly string[],
    private readonly make: () => C,
  ) {}

  bind(labels: Labels): C {
    checkLabels(this.metric, this.labelNames, labels);
    // Label values may hold any character: JSON keeps distinct label sets distinct.
    const key = JSON.stringify(this.labelNames.map((n) => labels[n]));
    let entry = this.byKey.get(key);
    if (entry === undefined) {
      entry = { labels: { ...labels }, child: this.make() };
      this.byKey.set(key, entry);
    }
    return entry.child;
  }

  entries(): IterableIterator<{ labels: Labels; child: C }> {
    return this.byKey.values();
  }
}

export class CounterChild {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }
}

/** A Prometheus counter whose children are bound once (see the module comment). */
export class BoundCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly children: Children<CounterChild>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
    registry: Registry,
  ) {
    this.children = new Children(name, labelNames, () => new CounterChild());
    registry.registerMetric(this as never);
  }

  labels(labels: Labels): CounterChild {
    return this.children.bind(labels);
  }

  get(): Promise<MetricData> {
    const values: MetricValue[] = [];
    for (const { labels, child } of this.children.entries())
      values.push({ value: child.value, labels: { ...labels } });
    return Promise.resolve({ name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' });
  }
}

export class HistogramChild {
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: Float64Array) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    // Prometheus buckets are "less than or equal": a value on a bound counts in that bound's bucket.
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

/** A Prometheus histogram whose children are bound once (see the module comment). */
export class BoundHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: Float64Array;
  private readonly children: Children<HistogramChild>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
    registry: Registry,
  ) {
    if (labelNames.includes('le')) throw new Error(`metric ${name}: 'le' is reserved for histogram buckets`);
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((b, i) => !Number.isFinite(b) || (i > 0 && b === sorted[i - 1])))
      throw new Error(`metric ${name}: buckets must be distinct finite numbers`);
    this.bounds = Float64Array.from(sorted);
    this.children = new Children(name, labelNames, () => new HistogramChild(this.bounds));
    registry.registerMetric(this as never);
  }

  labels(labels: Labels): HistogramChild {
    return this.children.bind(labels);
  }

  /** Cumulative buckets, then +Inf, sum and count per child: what prom-client's histogram reports. */
  get(): Promise<MetricData> {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, child } of this.children.entries()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += child.counts[i] ?? 0;
        values.push({ value: cumulative, metricName: bucket, exemplar: null, labels: { le, ...labels } });
      });
      values.push({
        value: child.count,
        metricName: bucket,
        exemplar: null,
        labels: { le: '+Inf', ...labels },
      });
      values.push({ value: child.sum, metricName: `${this.name}_sum`, labels: { ...labels } });
      values.push({ value: child.count, metricName: `${this.name}_count`, labels: { ...labels } });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: 'histogram',
      values,
      aggregator: 'sum',
    });
  }
}
