import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataQuality } from '../../monitor/data-quality.js';
import { detectDrift } from '../../monitor/drift.js';
import { classificationMetrics, regressionMetrics } from '../../monitor/quality.js';
import { featureHistograms } from './feature-histograms.js';
import type { MonitorReport } from './monitor-report.js';
import { escapeHtml } from '../../core/html.js';
import { monitorReportHtml } from './report-html.js';

const EVIL = '<img src=x onerror="alert(1)">';

function sample(n: number, offset: number): number[] {
  return Array.from({ length: n }, (_, i) => ((i * 37) % 50) / 10 + offset);
}

function report(): MonitorReport {
  const reference = {
    steady: sample(200, 0),
    moved: sample(200, 0),
    [EVIL]: sample(200, 0),
    city: Array.from({ length: 200 }, (_, i) => ['Oslo', 'Rome', 'Lima'][i % 3] as string),
  };
  const current = {
    steady: sample(100, 0),
    moved: sample(100, 3),
    [EVIL]: sample(100, 0),
    city: Array.from({ length: 100 }, (_, i) => ['Oslo', 'Rome', '"Paris"'][i % 3] as string),
  };
  const drift = detectDrift(
    { ...reference, prediction: sample(200, 0).map((v) => Math.floor(v) % 2) },
    { ...current, prediction: sample(100, 0).map(() => 1) },
    { predictionColumn: 'prediction' },
  );
  return {
    model: 'toy',
    version: '2',
    generated_at: '2026-01-01T00:00:00.000Z',
    task: 'classification',
    classes: ['no', '<yes>'],
    reference: { source: "/data/ref's.csv", rows: 200, target: 'label' },
    current: { source: '/data/cur.csv', rows: 100, target: 'label' },
    labelled: 4,
    quality: classificationMetrics(
      [
        { label: 0, predicted: 0 },
        { label: 1, predicted: 1 },
        { label: 1, predicted: 0 },
        { label: 0, predicted: 0 },
      ],
      { numClasses: 2 },
    ),
    quality_note: null,
    drift,
    data_quality: dataQuality(reference, current),
    drift_note: null,
    histograms: featureHistograms(reference, current),
  };
}

/** The drift table's rows as (feature, drifted) pairs, read back from the markup. */
function driftRows(html: string): [string, string][] {
  const table = html.slice(
    html.indexOf('data-testid="drift-table"'),
    html.indexOf('</table>', html.indexOf('data-testid="drift-table"')),
  );
  return [...table.matchAll(/<tr data-feature="([^"]*)" data-drifted="(true|false)"/g)].map((m) => [
    m[1] as string,
    m[2] as string,
  ]);
}

const unescape = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

test('one whole page: drift rows flagged as the drift report says, drifted first', () => {
  const r = report();
  const html = monitorReportHtml(r);
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<\/html>\n$/);
  const rows = driftRows(html);
  const expected = r.drift?.features ?? [];
  assert.deepEqual(
    rows.map(([name, drifted]) => [unescape(name), drifted]).sort(),
    expected.map((f) => [f.name, String(f.drifted)]).sort(),
  );
  assert.ok(rows.some(([name, d]) => name === 'moved' && d === 'true'));
  assert.ok(rows.some(([name, d]) => name === 'steady' && d === 'false'));
  assert.equal(rows[0]?.[1], 'true');
  assert.match(html, /data-testid="prediction-drift"/);
  assert.match(html, /data-testid="data-quality-table"/);
  assert.match(html, /data-testid="confusion-matrix"/);
  assert.equal((html.match(/<svg class="hist"/g) ?? []).length, 4);
});

test('nothing loads from elsewhere, and every value from the data is escaped', () => {
  const html = monitorReportHtml(report());
  assert.doesNotMatch(html, /(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
  assert.doesNotMatch(html, /<link\b/i);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.ok(!html.includes(EVIL), 'raw markup from a feature name');
  assert.ok(html.includes(escapeHtml(EVIL)));
  assert.ok(html.includes('/data/ref&#39;s.csv'));
  assert.ok(html.includes('&lt;yes&gt;'), 'class names escaped in the confusion matrix');
  assert.ok(html.includes('&quot;Paris&quot;'), 'unseen categories escaped');
  // One script, ours.
  assert.equal((html.match(/<script/g) ?? []).length, 1);
});

test('regression metrics, and notes when drift or quality are missing', () => {
  const r: MonitorReport = {
    ...report(),
    task: 'regression',
    classes: null,
    quality: regressionMetrics([
      { label: 1, predicted: 1.5 },
      { label: 2, predicted: 2 },
      { label: 3, predicted: 2.5 },
    ]),
    drift: null,
    data_quality: null,
    histograms: null,
    drift_note: 'drift not computed: <because>',
  };
  const html = monitorReportHtml(r);
  assert.match(html, /<td>RMSE<\/td><td>0\.4082<\/td>/);
  assert.match(html, /<td>R²<\/td>/);
  assert.doesNotMatch(html, /<table data-testid="drift-table"/);
  assert.ok(html.includes('drift not computed: &lt;because&gt;'));
  const none = monitorReportHtml({
    ...r,
    quality: null,
    quality_note: 'no ground truth: run the report with --labels',
  });
  assert.match(none, /no ground truth: run the report with --labels/);
});
