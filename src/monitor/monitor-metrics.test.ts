import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceMetrics } from './metrics.js';
import { MonitorMetrics } from './monitor-metrics.js';

function setUp() {
  const inference = new InferenceMetrics({ processMetrics: false });
  return { inference, monitor: new MonitorMetrics(inference.registry) };
}

/** The sample lines of one metric in the exposition text, labels and value as written. */
async function lines(inference: InferenceMetrics, name: string): Promise<string[]> {
  const text = await inference.render();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

test('quality: one gauge per metric; null, NaN and metrics left out lose their series; count becomes the samples gauge', async () => {
  const { inference, monitor } = setUp();
  monitor.setQuality('digits', '1', {
    count: 150,
    accuracy: 0.9,
    f1_macro: 0.85,
    roc_auc_ovr: null,
    log_loss: Number.NaN,
    confusion_matrix: [[1]],
  });
  monitor.setQuality('digits', '2', { count: 10, accuracy: 0.5 });
  assert.deepEqual((await lines(inference, 'tend_model_quality')).sort(), [
    'tend_model_quality{model="digits",version="1",metric="accuracy"} 0.9',
    'tend_model_quality{model="digits",version="1",metric="f1_macro"} 0.85',
    'tend_model_quality{model="digits",version="2",metric="accuracy"} 0.5',
  ]);
  assert.deepEqual(await lines(inference, 'tend_model_quality_samples'), [
    'tend_model_quality_samples{model="digits",version="1"} 150',
    'tend_model_quality_samples{model="digits",version="2"} 10',
  ]);
  monitor.setQuality('digits', '1', { count: 160, accuracy: null, f1_macro: 0.8 });
  assert.deepEqual((await lines(inference, 'tend_model_quality')).sort(), [
    'tend_model_quality{model="digits",version="1",metric="f1_macro"} 0.8',
    'tend_model_quality{model="digits",version="2",metric="accuracy"} 0.5',
  ]);
  monitor.clearVersion('digits', '1');
  monitor.clearVersion('digits', '9');
  assert.deepEqual(await lines(inference, 'tend_model_quality'), [
    'tend_model_quality{model="digits",version="2",metric="accuracy"} 0.5',
  ]);
  assert.deepEqual(await lines(inference, 'tend_model_quality_samples'), [
    'tend_model_quality_samples{model="digits",version="2"} 10',
  ]);
});

test('drift: share, dataset flag, per-feature score (p-value, else distance) and flag; features no longer reported are removed', async () => {
  const { inference, monitor } = setUp();
  monitor.setDrift('digits', '1', {
    dataset_drift: true,
    drifted_share: 0.5,
    features: [
      { name: 'age', statistic: 0.4, p_value: 0.001, drifted: true },
      { name: 'income', statistic: 0.02, p_value: null, drifted: false },
      { name: 'city', statistic: null, p_value: null, drifted: false },
    ],
  });
  assert.deepEqual(await lines(inference, 'tend_dataset_drift_share'), [
    'tend_dataset_drift_share{model="digits",version="1"} 0.5',
  ]);
  assert.deepEqual(await lines(inference, 'tend_dataset_drift'), [
    'tend_dataset_drift{model="digits",version="1"} 1',
  ]);
  assert.deepEqual(await lines(inference, 'tend_feature_drift_score'), [
    'tend_feature_drift_score{model="digits",version="1",feature="age"} 0.001',
    'tend_feature_drift_score{model="digits",version="1",feature="income"} 0.02',
  ]);
  assert.deepEqual(await lines(inference, 'tend_feature_drifted'), [
    'tend_feature_drifted{model="digits",version="1",feature="age"} 1',
    'tend_feature_drifted{model="digits",version="1",feature="income"} 0',
    'tend_feature_drifted{model="digits",version="1",feature="city"} 0',
  ]);
  monitor.setDrift('digits', '1', {
    dataset_drift: false,
    drifted_share: 0,
    features: [{ name: 'age', statistic: 0.1, p_value: 0.6, drifted: false }],
  });
  assert.deepEqual(await lines(inference, 'tend_feature_drifted'), [
    'tend_feature_drifted{model="digits",version="1",feature="age"} 0',
  ]);
  assert.deepEqual(await lines(inference, 'tend_dataset_drift'), [
    'tend_dataset_drift{model="digits",version="1"} 0',
  ]);
  monitor.clearVersion('digits', '1');
  for (const name of [
    'tend_feature_drifted',
    'tend_feature_drift_score',
    'tend_dataset_drift',
    'tend_dataset_drift_share',
  ]) {
    assert.deepEqual(await lines(inference, name), [], name);
  }
});

test('alert states as 0/1/2, counters of the prediction log, feedback and webhook deliveries', async () => {
  const { inference, monitor } = setUp();
  monitor.setAlert('acc', 'firing');
  monitor.setAlert('errors', 'pending');
  monitor.setAlert('latency', 'inactive');
  assert.deepEqual(await lines(inference, 'tend_alert_state'), [
    'tend_alert_state{rule="acc"} 2',
    'tend_alert_state{rule="errors"} 1',
    'tend_alert_state{rule="latency"} 0',
  ]);
  monitor.removeAlert('latency');
  assert.equal((await lines(inference, 'tend_alert_state')).length, 2);
  monitor.loggedRows(5);
  monitor.loggedRows(3);
  monitor.droppedRows(2);
  monitor.droppedRows(0);
  monitor.feedbackRows(4);
  monitor.webhookDelivery('ops', 'delivered');
  monitor.webhookDelivery('ops', 'failed');
  monitor.webhookDelivery('ops', 'delivered');
  assert.deepEqual(await lines(inference, 'tend_prediction_log_rows_total'), [
    'tend_prediction_log_rows_total 8',
  ]);
  assert.deepEqual(await lines(inference, 'tend_prediction_log_dropped_total'), [
    'tend_prediction_log_dropped_total 2',
  ]);
  assert.deepEqual(await lines(inference, 'tend_feedback_rows_total'), ['tend_feedback_rows_total 4']);
  assert.deepEqual(await lines(inference, 'tend_alert_webhook_deliveries_total'), [
    'tend_alert_webhook_deliveries_total{webhook="ops",outcome="delivered"} 2',
    'tend_alert_webhook_deliveries_total{webhook="ops",outcome="failed"} 1',
  ]);
});

test('registering twice on one registry is refused by prom-client (one MonitorMetrics per registry)', () => {
  const { inference } = setUp();
  assert.throws(() => new MonitorMetrics(inference.registry), /already been registered/);
});
