import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from './errors.js';
import { parseWith } from './config.js';
import {
  AlertsConfigSchema,
  DEFAULT_ALERTS_CONFIG,
  compare,
  compileAlertRules,
  evaluationIntervalMs,
  matchesModel,
} from './alert-rules.js';

const GOOD = {
  evaluation_interval: '10s',
  rules: [
    {
      name: 'digits-accuracy',
      model: 'digits',
      metric: 'accuracy',
      window: '1h',
      op: '<',
      threshold: 0.9,
      for: '5m',
      severity: 'critical',
      webhooks: ['ops'],
    },
    {
      name: 'any-errors',
      model: '*',
      version: 'champion',
      metric: 'error_rate',
      window: '15m',
      op: '>',
      threshold: 0.05,
    },
    {
      name: 'drift',
      model: 'digits-*',
      version: 2,
      metric: 'drifted_share',
      last: 500,
      op: '>=',
      threshold: 0.5,
      min_samples: 50,
    },
    { name: 'silence', model: 'digits', metric: 'request_rate', op: '<', threshold: 0.1 },
  ],
  webhooks: [
    { name: 'ops', url: 'http://127.0.0.1:9000/hook', headers: { authorization: 'Bearer x' } },
    { name: 'chat', url: 'https://chat.example/hook', timeout_ms: 2000, max_attempts: 3 },
  ],
};

function issues(value: unknown): string {
  try {
    parseWith(AlertsConfigSchema, value, 'tend.yaml');
  } catch (err) {
    assert.ok(err instanceof TendError);
    assert.equal(err.code, 'TEND_INVALID_CONFIG');
    return err.message;
  }
  assert.fail(`expected ${JSON.stringify(value)} to be refused`);
}

test("durations in rules are core/duration's grammar, kept as written", () => {
  const config = parseWith(
    AlertsConfigSchema,
    { ...GOOD, evaluation_interval: '1.5s', rules: [{ ...GOOD.rules[0], window: '1h30m', for: '0s' }] },
    'tend.yaml',
  );
  assert.equal(config.rules[0]?.window, '1h30m');
  assert.equal(evaluationIntervalMs(config), 1500);
  assert.equal(compileAlertRules(config)[0]?.windowMs, 5_400_000);
  assert.equal(compileAlertRules(config)[0]?.forMs, 0);
});

test('a full config parses with defaults filled, and parses again to itself', () => {
  const parsed = AlertsConfigSchema.parse(GOOD);
  assert.equal(parsed.rules[1]?.version, 'champion');
  assert.equal(parsed.rules[0]?.version, 'all');
  assert.equal(parsed.rules[1]?.for, '0s');
  assert.equal(parsed.rules[1]?.severity, 'warning');
  assert.equal(parsed.webhooks[0]?.timeout_ms, 5000);
  assert.equal(parsed.webhooks[0]?.max_attempts, 5);
  assert.deepEqual(AlertsConfigSchema.parse(parsed), parsed);
  assert.equal(evaluationIntervalMs(parsed), 10_000);
});

test('defaults: an empty section has no rules and a 5 s interval', () => {
  assert.deepEqual(DEFAULT_ALERTS_CONFIG, { evaluation_interval: '5s', rules: [], webhooks: [] });
  assert.equal(evaluationIntervalMs(DEFAULT_ALERTS_CONFIG), 5000);
  assert.deepEqual(AlertsConfigSchema.prefault({}).parse(undefined), DEFAULT_ALERTS_CONFIG);
});

test('compiled rules: ms durations, window default 1h, min_samples 100 (0 for request_rate), webhooks all when omitted', () => {
  const [accuracy, errors, drift, silence] = compileAlertRules(AlertsConfigSchema.parse(GOOD));
  assert.ok(accuracy && errors && drift && silence);
  assert.equal(accuracy.windowMs, 3_600_000);
  assert.equal(accuracy.forMs, 300_000);
  assert.equal(accuracy.minSamples, 100);
  assert.deepEqual(accuracy.webhooks, ['ops']);
  assert.equal(accuracy.windowText, '1h');
  assert.deepEqual(errors.webhooks, ['ops', 'chat']);
  assert.equal(errors.forMs, 0);
  assert.equal(drift.windowMs, null);
  assert.equal(drift.last, 500);
  assert.equal(drift.minSamples, 50);
  assert.equal(drift.windowText, 'last 500');
  assert.equal(silence.windowMs, 3_600_000);
  assert.equal(silence.minSamples, 0);
});

test('bad rules are refused with the field and what to write', () => {
  const rule = GOOD.rules[0];
  const withRule = (over: Record<string, unknown>) => ({
    rules: [{ ...rule, webhooks: undefined, ...over }],
  });
  assert.match(
    issues(withRule({ window: '1 hour' })),
    /rules\.0\.window: '1 hour' is not a duration: write a number and a unit, or several largest first: 500ms, 1\.5s/,
  );
  assert.match(issues(withRule({ for: '5' })), /rules\.0\.for: '5' is not a duration/);
  assert.match(issues(withRule({ window: '10ms' })), /rules\.0\.window: '10ms' is too short/);
  assert.match(
    issues(withRule({ metric: 'precision' })),
    /rules\.0\.metric: metric must be one of accuracy, .*request_rate/,
  );
  assert.match(issues(withRule({ op: '==' })), /rules\.0\.op: op must be one of/);
  assert.match(issues(withRule({ threshold: 'high' })), /rules\.0\.threshold/);
  assert.match(issues(withRule({ severity: 'page' })), /severity must be info, warning or critical/);
  assert.match(issues(withRule({ version: 0 })), /rules\.0\.version/);
  assert.match(issues(withRule({ version: 'latest' })), /rules\.0\.version/);
  assert.match(
    issues(withRule({ model: 'digits/v1' })),
    /rules\.0\.model: model must be a model name or a glob/,
  );
  assert.match(
    issues(withRule({ name: 'has space' })),
    /rules\.0\.name: rule name must start with a letter or digit/,
  );
  assert.match(issues(withRule({ last: 100 })), /rules\.0\.last: give either window or last, not both/);
  assert.match(issues(withRule({ window: undefined, last: 0 })), /rules\.0\.last/);
  assert.match(
    issues(withRule({ metric: 'p99_latency_ms', window: undefined, last: 100 })),
    /p99_latency_ms is measured over a time window: use window, not last/,
  );
  assert.match(issues(withRule({ min_samples: -1 })), /rules\.0\.min_samples/);
  assert.match(issues(withRule({ thresold: 1 })), /thresold/);
  assert.match(issues({ rules: [{ name: 'x', model: 'm', op: '<', threshold: 1 }] }), /rules\.0\.metric/);
  assert.match(
    issues({ rules: [rule, rule], webhooks: GOOD.webhooks }),
    /rules\.1\.name: rule name 'digits-accuracy' is used twice/,
  );
});

test('bad webhooks and references are refused', () => {
  const hook = GOOD.webhooks[0];
  assert.match(
    issues({ webhooks: [{ ...hook, url: 'not a url' }] }),
    /webhooks\.0\.url: 'not a url' is not a URL: write it in full/,
  );
  assert.match(
    issues({ webhooks: [{ ...hook, url: 'ftp://host/x' }] }),
    /must be an http:\/\/ or https:\/\/ URL/,
  );
  assert.match(issues({ webhooks: [{ ...hook, timeout_ms: 0 }] }), /webhooks\.0\.timeout_ms/);
  assert.match(issues({ webhooks: [{ ...hook, max_attempts: 0 }] }), /webhooks\.0\.max_attempts/);
  assert.match(issues({ webhooks: [hook, hook] }), /webhooks\.1\.name: webhook name 'ops' is used twice/);
  assert.match(
    issues({ rules: [GOOD.rules[0]] }),
    /rules\.0\.webhooks\.0: unknown webhook 'ops': no webhooks are configured/,
  );
  assert.match(
    issues({ rules: [{ ...GOOD.rules[0], webhooks: ['pager'] }], webhooks: GOOD.webhooks }),
    /unknown webhook 'pager': known webhooks are ops, chat/,
  );
  assert.match(
    issues({ evaluation_interval: '10ms' }),
    /evaluation_interval: '10ms' is too short: at least 100 ms/,
  );
  assert.match(issues({ rule: [] }), /rule/);
});

test('model globs and comparisons', () => {
  assert.ok(matchesModel('digits', 'digits'));
  assert.ok(!matchesModel('digits', 'digits-2'));
  assert.ok(matchesModel('*', 'anything'));
  assert.ok(matchesModel('digits-*', 'digits-2'));
  assert.ok(matchesModel('*.v2', 'a.v2'));
  assert.ok(!matchesModel('*.v2', 'av2'), "'.' is literal");
  assert.ok(!matchesModel('digits-*', 'digits'));
  assert.ok(compare(1, '<', 2) && !compare(2, '<', 2));
  assert.ok(compare(2, '<=', 2) && !compare(3, '<=', 2));
  assert.ok(compare(3, '>', 2) && !compare(2, '>', 2));
  assert.ok(compare(2, '>=', 2) && !compare(1, '>=', 2));
});
