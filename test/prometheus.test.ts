/**
 * The shipped Prometheus rules and Grafana dashboard, checked with the real tools:
 * - `promtool check rules` and `promtool test rules` (synthetic series → expected alerts) on
 * deploy/prometheus/alerts.yml;
 *  - a Prometheus server on loopback that scrapes a tend test server and fires a rule over tend's metrics;
 *  - deploy/grafana/tend.json structurally: every panel queries metrics that tend exports.
 * Debian's `prometheus` package gives /usr/bin/prometheus and /usr/bin/promtool; without them these tests
 * fail (set TEND_SKIP_PROMETHEUS=1 to skip the ones that need them).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { InferenceMetrics } from '../src/monitor/metrics.js';
import { MonitorMetrics } from '../src/monitor/monitor-metrics.js';
import {
  FIXTURE_MODELS,
  ROOT,
  makeRepo,
  postJson,
  seededRandom,
  startTestServer,
  tempDir,
  type TestServer,
} from './helpers.js';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const RULES = join(ROOT, 'deploy', 'prometheus', 'alerts.yml');
const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'tend.json');
const SKIP = process.env['TEND_SKIP_PROMETHEUS'] === '1' ? 'TEND_SKIP_PROMETHEUS=1' : false;

function requireTool(path: string): void {
  if (!existsSync(path)) {
    assert.fail(
      `${path} is missing: install Debian's prometheus package (apt-get install prometheus), or set TEND_SKIP_PROMETHEUS=1 to skip this test`,
    );
  }
}

/** The exposition text with one value of every metric tend exports set. */
async function fullExposition(): Promise<string> {
  const inference = new InferenceMetrics({ pendingSource: () => [{ model: 'm', version: '1', pending: 1 }] });
  const monitor = new MonitorMetrics(inference.registry);
  const v = inference.forVersion('m', '1');
  v.success(1000, 2000);
  v.failure();
  v.rejected();
  v.batch(4);
  monitor.setQuality('m', '1', { count: 10, accuracy: 0.9 });
  monitor.setDrift('m', '1', {
    dataset_drift: true,
    drifted_share: 1,
    features: [{ name: 'f', statistic: 0.5, p_value: 0.01, drifted: true }],
  });
  monitor.setAlert('r', 'firing');
  monitor.loggedRows(1);
  monitor.droppedRows(1);
  monitor.feedbackRows(1);
  monitor.webhookDelivery('w', 'delivered');
  return inference.render();
}

/** Every metric name tend exports, read from the exposition text after one value of each was set. */
async function exportedMetricNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const line of (await fullExposition()).split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (match?.[1]) names.add(match[1]);
  }
  return names;
}

/** Metric names a PromQL expression reads: tend_* identifiers and `up` (string literals dropped first). */
function metricsIn(expr: string): string[] {
  const code = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...code.matchAll(/(?<![A-Za-z0-9_:$])(tend_[a-zA-Z0-9_:]*|up)(?![A-Za-z0-9_:])/g)].map(
    (m) => m[1] ?? '',
  );
}

/** promtool check metrics on an exposition: exit 0 and nothing printed (no error, no lint warning). */
function checkMetrics(text: string): void {
  requireTool(PROMTOOL);
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool check metrics failed:\n${r.stdout}${r.stderr}`);
  assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'promtool check metrics printed warnings');
}

test(
  'promtool check metrics: every metric tend exports, each with a value, passes without a warning',
  { skip: SKIP },
  async () => {
    checkMetrics(await fullExposition());
  },
);

describe('deploy/prometheus/alerts.yml', { skip: SKIP }, () => {
  test('promtool check rules accepts it', () => {
    requireTool(PROMTOOL);
    const r = spawnSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool check rules failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /SUCCESS: \d+ rules found/);
  });

  test('promtool test rules: synthetic series fire the expected alerts, and only those', () => {
    requireTool(PROMTOOL);
    const dir = tempDir('promtool');
    try {
      const file = join(dir, 'alerts.test.yml');
      writeFileSync(file, toYaml(RULE_TESTS(RULES)));
      const r = spawnSync(PROMTOOL, ['test', 'rules', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `promtool test rules failed:\n${r.stdout}\n${r.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('every metric the shipped rules use is one tend exports', async () => {
  const exported = await exportedMetricNames();
  const doc = parseYaml(readFileSync(RULES, 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  const rules = doc.groups.flatMap((g) => g.rules);
  assert.ok(rules.length >= 5);
  for (const rule of rules) {
    const used = metricsIn(rule.expr);
    assert.ok(used.length > 0, `${rule.alert} reads no tend metric`);
    for (const name of used)
      assert.ok(
        name === 'up' || exported.has(name),
        `${rule.alert} uses ${name}, which tend does not export`,
      );
  }
});

describe('deploy/grafana/tend.json', () => {
  interface Panel {
    id: number;
    type: string;
    title: string;
    datasource?: { type: string; uid: string };
    gridPos: { x: number; y: number; w: number; h: number };
    targets?: { expr: string; datasource?: { uid: string } }[];
    panels?: Panel[];
  }
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    schemaVersion: number;
    __inputs: { name: string; type: string; pluginId: string }[];
    templating: { list: { name: string; query: { query: string } | string }[] };
    panels: Panel[];
  };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');

  test('is an importable dashboard: schemaVersion ≥ 36, a ${DS_PROMETHEUS} input, model and version variables, unique ids, a 24-column grid', () => {
    assert.ok(dashboard.schemaVersion >= 36);
    assert.deepEqual(
      dashboard.__inputs.map((i) => [i.name, i.type, i.pluginId]),
      [['DS_PROMETHEUS', 'datasource', 'prometheus']],
    );
    const variables = dashboard.templating.list.map((v) => v.name);
    assert.ok(
      variables.includes('model') && variables.includes('version'),
      `variables ${variables.join(', ')}`,
    );
    const ids = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of panels) {
      assert.ok(
        p.gridPos.x >= 0 && p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24,
        `${p.title} fits the grid`,
      );
      assert.equal(p.datasource?.uid, '${DS_PROMETHEUS}', `${p.title} uses the input datasource`);
      for (const t of p.targets ?? [])
        assert.equal(t.datasource?.uid, '${DS_PROMETHEUS}', `${p.title} target datasource`);
    }
  });

  test('every panel queries metrics tend exports, and the required views are there', async () => {
    const exported = await exportedMetricNames();
    const used = new Set<string>();
    for (const p of panels) {
      const names = (p.targets ?? []).flatMap((t) => metricsIn(t.expr));
      assert.ok(names.length > 0, `panel '${p.title}' queries no tend metric`);
      for (const name of names) {
        assert.ok(
          name === 'up' || exported.has(name),
          `panel '${p.title}' queries ${name}, which tend does not export`,
        );
        used.add(name);
      }
    }
    for (const v of dashboard.templating.list) {
      const query = typeof v.query === 'string' ? v.query : v.query.query;
      for (const name of metricsIn(query))
        assert.ok(exported.has(name), `variable ${v.name} queries ${name}, which tend does not export`);
    }
    for (const required of [
      'tend_inference_requests_total',
      'tend_inference_request_seconds_bucket',
      'tend_batch_size_bucket',
      'tend_pending_requests',
      'tend_model_quality',
      'tend_dataset_drift_share',
      'tend_feature_drift_score',
      'tend_feature_drifted',
      'tend_alert_state',
    ]) {
      assert.ok(used.has(required), `no panel shows ${required}`);
    }
  });
});

describe('a Prometheus server scraping tend', { skip: SKIP }, () => {
  let srv: TestServer;
  let repo: string;
  let dir: string;
  let prometheus: ChildProcess | undefined;
  let log = '';

  before(async () => {
    repo = makeRepo([{ name: 'digits', model: join(FIXTURE_MODELS, 'digits_mlp.onnx') }]);
    srv = await startTestServer({ repos: [repo] });
    dir = tempDir('prometheus');
  });

  after(async () => {
    await stopProcess(prometheus);
    await srv?.close();
    rmSync(repo, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  test('scrapes /metrics, loads the shipped rules and fires a rule over tend_inference_requests_total', async () => {
    requireTool(PROMETHEUS);
    const rand = seededRandom(7);
    for (let i = 0; i < 3; i++) {
      const data = Array.from({ length: 64 }, () => Math.fround(rand() * 16));
      const res = await postJson(`${srv.url}/v2/models/digits/infer`, {
        inputs: [{ name: 'pixels', shape: [1, 64], datatype: 'FP32', data }],
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const tendTarget = new URL(srv.url).host;
    const testRules = join(dir, 'test-rules.yml');
    writeFileSync(
      testRules,
      toYaml({
        groups: [
          {
            name: 'tend-test',
            rules: [
              {
                alert: 'TendTestRequestsServed',
                expr: 'sum(tend_inference_requests_total{outcome="success"}) > 0',
                for: '0s',
                labels: { severity: 'info' },
              },
            ],
          },
        ],
      }),
    );
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      toYaml({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [testRules, RULES],
        scrape_configs: [
          { job_name: 'tend', metrics_path: '/metrics', static_configs: [{ targets: [tendTarget] }] },
        ],
      }),
    );
    const port = await freePort();
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=info',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus = child;
    const append = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    const api = `http://127.0.0.1:${port}/api/v1`;

    const alert = await pollFor(
      60_000,
      child,
      () => log,
      async () => {
        const body = (await (await fetch(`${api}/alerts`)).json()) as {
          data: { alerts: { labels: Record<string, string>; state: string; value: string }[] };
        };
        return body.data.alerts.find(
          (a) => a.labels['alertname'] === 'TendTestRequestsServed' && a.state === 'firing',
        );
      },
    );
    assert.equal(Number(alert.value), 3, 'the alert value is the number of successful requests tend counted');
    // The server's own /metrics after traffic, process metrics included, passes promtool's lint.
    const scraped = await fetch(`${srv.url}/metrics`);
    assert.equal(scraped.status, 200);
    checkMetrics(await scraped.text());

    const targets = (await (await fetch(`${api}/targets`)).json()) as {
      data: { activeTargets: { labels: Record<string, string>; health: string }[] };
    };
    assert.deepEqual(
      targets.data.activeTargets.map((t) => [t.labels['job'], t.health]),
      [['tend', 'up']],
    );
    const rules = (await (await fetch(`${api}/rules`)).json()) as {
      data: { groups: { name: string; file: string; rules: { name: string; health: string }[] }[] };
    };
    const shipped = rules.data.groups.filter((g) => g.file === RULES);
    assert.deepEqual(shipped.map((g) => g.name).sort(), ['tend-model-quality', 'tend-serving']);
    for (const rule of shipped.flatMap((g) => g.rules))
      assert.notEqual(rule.health, 'err', `${rule.name} fails to evaluate`);
    const query = (await (
      await fetch(
        `${api}/query?query=${encodeURIComponent('tend_inference_requests_total{outcome="success"}')}`,
      )
    ).json()) as {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    assert.deepEqual(
      query.data.result.map((r) => [r.metric['model'], r.metric['version'], r.value[1]]),
      [['digits', '1', '3']],
    );
  });
});

/** Poll `probe` until it gives a value; fail after `timeoutMs` (or when the process exits) with the process log. */
async function pollFor<T>(
  timeoutMs: number,
  child: ChildProcess,
  log: () => string,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) assert.fail(`prometheus exited with code ${child.exitCode}:\n${log()}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = (err as Error).message; // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(
    `no firing alert within ${timeoutMs / 1000} s (last error: ${lastError || 'none'}); prometheus log:\n${log()}`,
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** promtool unit tests of the shipped rules: input series per minute, expected alerts at given times. */
function RULE_TESTS(rulesFile: string) {
  const alert = (labels: Record<string, string>, annotations: Record<string, string>) => ({
    exp_labels: labels,
    exp_annotations: annotations,
  });
  return {
    rule_files: [rulesFile],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: [
          // digits: 1 success/s and 0.5 failures/s (a third fail); iris: 1% fail; tiny: all fail but 0.05 req/s
          {
            series: 'tend_inference_requests_total{model="digits",version="1",outcome="success"}',
            values: '0+60x30',
          },
          {
            series: 'tend_inference_requests_total{model="digits",version="1",outcome="failure"}',
            values: '0+30x30',
          },
          {
            series: 'tend_inference_requests_total{model="iris",version="1",outcome="success"}',
            values: '0+99x30',
          },
          {
            series: 'tend_inference_requests_total{model="iris",version="1",outcome="rejected"}',
            values: '0+1x30',
          },
          {
            series: 'tend_inference_requests_total{model="tiny",version="1",outcome="failure"}',
            values: '0+3x30',
          },
          { series: 'up{job="tend",instance="127.0.0.1:8000"}', values: '1 1 0x10' },
          { series: 'tend_pending_requests{model="digits",version="1"}', values: '150x10' },
          { series: 'tend_alert_state{rule="acc"}', values: '0 2x5' },
        ],
        alert_rule_test: [
          {
            eval_time: '15m',
            alertname: 'TendHighErrorRate',
            exp_alerts: [
              alert(
                { severity: 'warning', model: 'digits', version: '1' },
                {
                  summary: 'digits version 1: 33.33% of requests fail',
                  description:
                    'More than 5% of the requests to digits version 1 failed or were rejected over the last 5 minutes.',
                },
              ),
            ],
          },
          { eval_time: '1m', alertname: 'TendDown', exp_alerts: [] },
          {
            eval_time: '5m',
            alertname: 'TendDown',
            exp_alerts: [
              alert(
                { severity: 'critical', job: 'tend', instance: '127.0.0.1:8000' },
                {
                  summary: 'tend at 127.0.0.1:8000 is not answering scrapes',
                  description:
                    'Prometheus has not scraped 127.0.0.1:8000 for a minute: the server is down or /metrics fails.',
                },
              ),
            ],
          },
          { eval_time: '4m', alertname: 'TendQueueBacklog', exp_alerts: [] },
          {
            eval_time: '6m',
            alertname: 'TendQueueBacklog',
            exp_alerts: [
              alert(
                { severity: 'warning', model: 'digits', version: '1' },
                {
                  summary: 'digits version 1: 150 requests queued',
                  description:
                    'Requests are arriving faster than digits version 1 serves them; add instances or raise the batch size.',
                },
              ),
            ],
          },
          {
            eval_time: '2m',
            alertname: 'TendAlertFiring',
            exp_alerts: [
              alert(
                { severity: 'warning', rule: 'acc' },
                {
                  summary: 'tend alert rule acc is firing',
                  description: 'See `tend alerts` for the model versions and values behind it.',
                },
              ),
            ],
          },
        ],
      },
      {
        interval: '1m',
        input_series: [
          // p99 inside the (0.5, 1] bucket: 10 of 60 requests/min under 0.5 s
          {
            series: 'tend_inference_request_seconds_bucket{model="digits",version="1",le="0.5"}',
            values: '0+10x40',
          },
          {
            series: 'tend_inference_request_seconds_bucket{model="digits",version="1",le="1"}',
            values: '0+60x40',
          },
          {
            series: 'tend_inference_request_seconds_bucket{model="digits",version="1",le="+Inf"}',
            values: '0+60x40',
          },
          // a fast version: everything under 0.5 s
          {
            series: 'tend_inference_request_seconds_bucket{model="digits",version="2",le="0.5"}',
            values: '0+60x40',
          },
          {
            series: 'tend_inference_request_seconds_bucket{model="digits",version="2",le="1"}',
            values: '0+60x40',
          },
          {
            series: 'tend_inference_request_seconds_bucket{model="digits",version="2",le="+Inf"}',
            values: '0+60x40',
          },
        ],
        alert_rule_test: [
          { eval_time: '8m', alertname: 'TendHighLatencyP99', exp_alerts: [] },
          {
            eval_time: '20m',
            alertname: 'TendHighLatencyP99',
            exp_alerts: [
              alert(
                { severity: 'warning', model: 'digits', version: '1' },
                {
                  summary: 'digits version 1: p99 latency 994ms',
                  description:
                    'The 99th percentile of queue + compute time of digits version 1 has been above 500 ms for 10 minutes.',
                },
              ),
            ],
          },
        ],
      },
      {
        interval: '1m',
        input_series: [
          // version 1 drops from 0.95 to 0.85 after an hour on 200 labelled rows; version 2 drops on 50 rows only;
          // log_loss (lower is better) rises and must not count as a drop.
          {
            series: 'tend_model_quality{model="digits",version="1",metric="accuracy"}',
            values: '0.95x60 0.85x30',
          },
          {
            series: 'tend_model_quality{model="digits",version="1",metric="log_loss"}',
            values: '0.2x60 0.9x30',
          },
          { series: 'tend_model_quality_samples{model="digits",version="1"}', values: '200x90' },
          {
            series: 'tend_model_quality{model="digits",version="2",metric="accuracy"}',
            values: '0.95x60 0.5x30',
          },
          { series: 'tend_model_quality_samples{model="digits",version="2"}', values: '50x90' },
          { series: 'tend_dataset_drift{model="digits",version="1"}', values: '0 1x90' },
          { series: 'tend_feature_drifted{model="digits",version="1",feature="age"}', values: '0 1x90' },
          { series: 'tend_feature_drifted{model="digits",version="1",feature="income"}', values: '0x90' },
        ],
        alert_rule_test: [
          { eval_time: '70m', alertname: 'TendModelQualityDrop', exp_alerts: [] },
          {
            eval_time: '80m',
            alertname: 'TendModelQualityDrop',
            exp_alerts: [
              alert(
                { severity: 'warning', model: 'digits', version: '1', metric: 'accuracy' },
                {
                  summary: 'digits version 1: accuracy dropped by 0.100',
                  description:
                    'accuracy of digits version 1 is more than 0.05 below its best of the last 24 hours.',
                },
              ),
            ],
          },
          { eval_time: '20m', alertname: 'TendDatasetDrift', exp_alerts: [] },
          {
            eval_time: '35m',
            alertname: 'TendDatasetDrift',
            exp_alerts: [
              alert(
                { severity: 'warning', model: 'digits', version: '1' },
                {
                  summary: 'digits version 1: input data drifted',
                  description:
                    "tend's drift report finds dataset drift for digits version 1; the drift report of the model names the features.",
                },
              ),
            ],
          },
          {
            eval_time: '65m',
            alertname: 'TendFeatureDrift',
            exp_alerts: [
              alert(
                { severity: 'info', model: 'digits', version: '1', feature: 'age' },
                {
                  summary: 'digits version 1: feature age drifted',
                  description: 'The distribution of input age has differed from the reference for an hour.',
                },
              ),
            ],
          },
        ],
      },
    ],
  };
}
