/**
 * Alert rules and webhooks as configuration (the `alerts` section of the server config).
 *
 * The schema keeps durations as the strings the user wrote ('30s', '1h30m'), so a parsed config
 * parses again to itself (tests and reloads feed parsed configs back through the schema);
 * `compileAlertRules` turns them into milliseconds and fills the defaults that depend on the metric.
 *
 * @example
 * alerts:
 *   evaluation_interval: 10s
 *   rules:
 *     - { name: digits-accuracy, model: digits, metric: accuracy, window: 1h, op: '<', threshold: 0.9, for: 5m }
 *   webhooks:
 *     - { name: ops, url: 'http://127.0.0.1:9000/hook' }
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { TendError } from './errors.js';

/** Quality metrics a rule may watch (the keys of ClassificationMetrics / RegressionMetrics). */
export const QUALITY_METRICS = [
  'accuracy',
  'precision_macro',
  'recall_macro',
  'f1_macro',
  'f1_weighted',
  'roc_auc_ovr',
  'roc_auc',
  'log_loss',
  'mae',
  'rmse',
  'r2',
  'mape',
] as const;

/** Everything a rule may watch: quality, drift and serving metrics. */
export const ALERT_METRICS = [
  ...QUALITY_METRICS,
  'drifted_share',
  'error_rate',
  'p99_latency_ms',
  'request_rate',
] as const;

export type QualityMetricName = (typeof QUALITY_METRICS)[number];
export type AlertMetricName = (typeof ALERT_METRICS)[number];
export type AlertOp = '<' | '<=' | '>' | '>=';
export type AlertSeverity = 'info' | 'warning' | 'critical';

/** A duration string (core/duration's grammar) that must be at least `minMs` long. */
function durationString(minMs: number) {
  return z.string().superRefine((value, ctx) => {
    try {
      parseDuration(value, { minMs });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof TendError ? err.message : String(err) });
    }
  });
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const nameString = (what: string) =>
  z.string().regex(NAME_PATTERN, {
    message: `${what} must start with a letter or digit and use only letters, digits, '_', '.', ':' or '-' (at most 128 characters)`,
  });

/** A model name, or a glob where '*' matches any run of characters ('*', 'digits-*'). */
const modelPattern = z.string().regex(/^[A-Za-z0-9_.*-]{1,128}$/, {
  message: "model must be a model name or a glob with '*' (letters, digits, '_', '.', '-', '*')",
});

const httpUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `'${value}' is not a URL: write it in full, e.g. 'http://127.0.0.1:9000/hook'`,
    });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `'${value}' must be an http:// or https:// URL` });
  }
});

/** Measured over requests, so only over a time window. */
const SERVING_METRICS: ReadonlySet<string> = new Set(['error_rate', 'p99_latency_ms', 'request_rate']);

export const AlertRuleSchema = z
  .object({
    name: nameString('rule name'),
    model: modelPattern,
    /** 'all' versions (default), the model's 'champion' (what its name routes to), or one version number. */
    version: z.union([z.literal('all'), z.literal('champion'), z.number().int().positive()]).default('all'),
    metric: z.enum(ALERT_METRICS, { message: `metric must be one of ${ALERT_METRICS.join(', ')}` }),
    /** A time window ('15m', '1h'); with neither window nor last, '1h'. */
    window: durationString(1000).optional(),
    /** The last N logged rows instead of a time window (quality and drift metrics). */
    last: z.number().int().positive().optional(),
    op: z.enum(['<', '<=', '>', '>='], { message: "op must be one of '<', '<=', '>', '>='" }),
    threshold: z
      .number({ message: 'threshold must be a number' })
      .refine(Number.isFinite, { message: 'threshold must be a finite number' }),
    /** Fewer samples than this is "no data" (default 100; 0 for request_rate). */
    min_samples: z.number().int().nonnegative().optional(),
    /** How long the condition must hold before the alert fires (Prometheus `for`). */
    for: durationString(0).default('0s'),
    severity: z
      .enum(['info', 'warning', 'critical'], { message: 'severity must be info, warning or critical' })
      .default('warning'),
    /** Webhook names to notify; omitted: every webhook; []: none. */
    webhooks: z.array(z.string()).optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (rule.window !== undefined && rule.last !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['last'], message: 'give either window or last, not both' });
    }
    if (rule.last !== undefined && SERVING_METRICS.has(rule.metric)) {
      ctx.addIssue({
        code: 'custom',
        path: ['last'],
        message: `${rule.metric} is measured over a time window: use window, not last`,
      });
    }
  });

export const WebhookSchema = z
  .object({
    name: nameString('webhook name'),
    url: httpUrl,
    /** Per-attempt timeout. */
    timeout_ms: z.number().int().min(1).max(600_000).default(5000),
    /** Attempts in all, the first included. */
    max_attempts: z.number().int().min(1).max(20).default(5),
    /** Extra request headers (e.g. an Authorization token); never logged. */
    headers: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export const AlertsConfigSchema = z
  .object({
    /** How often every rule is evaluated. */
    evaluation_interval: durationString(100).default('5s'),
    rules: z.array(AlertRuleSchema).default([]),
    webhooks: z.array(WebhookSchema).default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seenRules = new Set<string>();
    config.rules.forEach((rule, i) => {
      if (seenRules.has(rule.name))
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `rule name '${rule.name}' is used twice`,
        });
      seenRules.add(rule.name);
    });
    const hooks = new Set<string>();
    config.webhooks.forEach((hook, i) => {
      if (hooks.has(hook.name))
        ctx.addIssue({
          code: 'custom',
          path: ['webhooks', i, 'name'],
          message: `webhook name '${hook.name}' is used twice`,
        });
      hooks.add(hook.name);
    });
    config.rules.forEach((rule, i) => {
      (rule.webhooks ?? []).forEach((name, j) => {
        if (!hooks.has(name)) {
          const known =
            hooks.size > 0 ? `: known webhooks are ${[...hooks].join(', ')}` : ': no webhooks are configured';
          ctx.addIssue({
            code: 'custom',
            path: ['rules', i, 'webhooks', j],
            message: `unknown webhook '${name}'${known}`,
          });
        }
      });
    });
  });

export type AlertRuleConfig = z.infer<typeof AlertRuleSchema>;
export type WebhookConfig = z.infer<typeof WebhookSchema>;
export type AlertsConfig = z.infer<typeof AlertsConfigSchema>;

/**
 * The config with every default filled. In the server schema use `AlertsConfigSchema.prefault({})`
 * or `.default(DEFAULT_ALERTS_CONFIG)`: zod 4's `.default({})` would skip the inner defaults.
 */
export const DEFAULT_ALERTS_CONFIG: AlertsConfig = AlertsConfigSchema.parse({});

/** A rule ready for the evaluator: durations in ms, defaults resolved. */
export interface CompiledAlertRule {
  name: string;
  model: string;
  version: 'all' | 'champion' | number;
  metric: AlertMetricName;
  /** The time window, or null when the rule looks at the last `last` rows. */
  windowMs: number | null;
  last: number | null;
  op: AlertOp;
  threshold: number;
  minSamples: number;
  forMs: number;
  severity: AlertSeverity;
  webhooks: string[];
  /** How the window reads in messages: '1h' or 'last 500'. */
  windowText: string;
}

const DEFAULT_WINDOW = '1h';
const DEFAULT_MIN_SAMPLES = 100;

/** Durations to ms and metric-dependent defaults (min_samples 0 for request_rate: silence must be able to fire). */
export function compileAlertRules(config: AlertsConfig): CompiledAlertRule[] {
  const allHooks = config.webhooks.map((h) => h.name);
  return config.rules.map((rule) => {
    const window = rule.last === undefined ? (rule.window ?? DEFAULT_WINDOW) : null;
    return {
      name: rule.name,
      model: rule.model,
      version: rule.version,
      metric: rule.metric,
      windowMs: window === null ? null : parseDuration(window),
      last: rule.last ?? null,
      op: rule.op,
      threshold: rule.threshold,
      minSamples: rule.min_samples ?? (rule.metric === 'request_rate' ? 0 : DEFAULT_MIN_SAMPLES),
      forMs: parseDuration(rule.for),
      severity: rule.severity,
      webhooks: rule.webhooks ?? allHooks,
      windowText: window ?? `last ${rule.last}`,
    };
  });
}

/** Milliseconds between evaluations. */
export function evaluationIntervalMs(config: AlertsConfig): number {
  return parseDuration(config.evaluation_interval);
}

/** True when a model name matches a rule's model pattern ('*' matches any run of characters). */
export function matchesModel(pattern: string, model: string): boolean {
  if (!pattern.includes('*')) return pattern === model;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(model);
}

/** True when `value op threshold` holds. */
export function compare(value: number, op: AlertOp, threshold: number): boolean {
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
  }
}
