/**
 * The alert path wired as the server wires it: config → compiled rules → evaluator → SQLite events,
 * the alert-state gauge, and a webhook receiver on loopback that refuses the first attempt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { AlertsConfigSchema, compileAlertRules } from '../core/alert-rules.js';
import { SqliteAlertEventStore } from './alert-store.js';
import { AlertEvaluator, type AlertSeriesValue } from './alerts.js';
import { InferenceMetrics } from './metrics.js';
import { MonitorMetrics } from './monitor-metrics.js';
import { WebhookNotifier } from './webhook.js';

test('a firing and a resolved alert reach a local webhook receiver, are stored and exported', async () => {
  const bodies: Record<string, unknown>[] = [];
  let requests = 0;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      if (requests === 1) {
        res.statusCode = 503; // the receiver is still starting: the notifier must retry
      } else {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>);
        res.statusCode = 202;
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;
  const db = new Database(':memory:');
  try {
    const config = AlertsConfigSchema.parse({
      evaluation_interval: '1s',
      rules: [
        {
          name: 'digits-errors',
          model: 'digits',
          metric: 'error_rate',
          window: '5m',
          op: '>',
          threshold: 0.1,
          min_samples: 20,
          severity: 'critical',
        },
      ],
      webhooks: [{ name: 'local', url, max_attempts: 3 }],
    });
    const inference = new InferenceMetrics({ processMetrics: false });
    const metrics = new MonitorMetrics(inference.registry);
    const notifier = new WebhookNotifier({
      webhooks: config.webhooks,
      metrics,
      initialBackoffMs: 5,
      maxBackoffMs: 20,
    });
    const store = new SqliteAlertEventStore(db);
    let current: AlertSeriesValue = { model: 'digits', version: '3', value: 0.4, samples: 50 };
    const evaluator = new AlertEvaluator({
      rules: compileAlertRules(config),
      source: () => [current],
      store,
      sink: notifier,
      metrics,
    });

    assert.equal((await evaluator.evaluate())[0]?.state, 'firing');
    assert.match(await inference.render(), /tend_alert_state\{rule="digits-errors"\} 2/);
    current = { ...current, value: 0.01 };
    assert.equal((await evaluator.evaluate())[0]?.state, 'resolved');
    assert.match(await inference.render(), /tend_alert_state\{rule="digits-errors"\} 0/);
    await notifier.close(5000);

    assert.deepEqual(
      bodies.map((b) => [b['rule'], b['model'], b['version'], b['state'], b['value'], b['severity']]).sort(),
      [
        ['digits-errors', 'digits', '3', 'firing', 0.4, 'critical'],
        ['digits-errors', 'digits', '3', 'resolved', 0.01, 'critical'],
      ],
    );
    assert.equal(requests, 3, 'one refused attempt, retried, then the second event');
    assert.deepEqual(
      store.list().map((e) => e.state),
      ['resolved', 'firing'],
    );
    assert.match(
      await inference.render(),
      /tend_alert_webhook_deliveries_total\{webhook="local",outcome="delivered"\} 2/,
    );
  } finally {
    db.close();
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  }
});
