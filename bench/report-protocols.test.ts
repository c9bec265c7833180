import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  undisturbed,
  type ProtocolFigure,
  type ProtocolKey,
  type ProtocolModelResult,
  type ProtocolsResult,
} from './protocols.js';
import { protocolRows, protocolTargets } from './report-protocols.js';
import { evaluateTargets, renderMarkdown, type BenchResults } from './report.js';

/** Runs at the given rates (by default three at the figure's rate: an A/A control of 1). */
function figure(
  protocol: ProtocolKey,
  requestsPerSecond: number,
  failures = 0,
  rates = [requestsPerSecond, requestsPerSecond, requestsPerSecond],
): ProtocolFigure {
  return {
    protocol,
    label: protocol,
    runs: rates.map((rate) => ({
      requestsPerSecond: rate,
      p50Ms: 2,
      p99Ms: 9,
      failures: 0,
      serverCpuMsPerRequest: 0.2,
      clientCpuCores: null,
      otherCores: 0,
      attempts: 1,
      disturbed: false,
    })),
    requestsPerSecond,
    p50Ms: 2,
    p99Ms: 9,
    failures,
    meanBatchSize: 4,
    serverCpuMsPerRequest: 0.2,
    clientCpuCores: null,
    otherCores: 0,
    attempts: 3,
    disturbedRuns: 0,
  };
}

function model(name: string, rates: Record<ProtocolKey, number>, identical = true): ProtocolModelResult {
  return {
    model: name,
    ceilingBatch: 8,
    ceilingSweepItemsPerSecond: 1000,
    ceilingSamples: [{ itemsPerSecond: 1000, disturbed: false }],
    ceilingItemsPerSecond: 1000,
    runSeconds: 8,
    figures: (Object.keys(rates) as ProtocolKey[]).map((k) => figure(k, rates[k])),
    check: {
      model: name,
      outputs: ['y FP32 [1,2]'],
      protocolsIdentical: identical,
      matchesRawOrt: true,
      differences: identical ? [] : ["gRPC vs JSON: output 'y'"],
    },
  };
}

const whyMissing = () => 'section not run';

test('binary and gRPC pass at JSON − 0.05 of the ceiling or better, and fail below', () => {
  // JSON reaches 0.80 of the ceiling; 0.75 is the bar.
  const rows = protocolRows(model('enc', { json: 800, binary: 760, grpc: 749, 'grpc-2ch': 900 }));
  const by = new Map(rows.map((r) => [r.figure.protocol, r]));
  assert.equal(by.get('json')?.verdict, null);
  assert.equal(by.get('binary')?.verdict, 'PASS');
  assert.equal(by.get('grpc')?.verdict, 'FAIL');
  assert.equal(by.get('grpc-2ch')?.verdict, 'PASS');
  assert.equal(by.get('binary')?.ratioToCeiling, 0.76);
  assert.equal(by.get('grpc-2ch')?.relativeToJson, 0.9 / 0.8);
  // The relative reading (≥ 0.95 × JSON's ratio) is stricter: 0.76 / 0.80 = 0.95 meets it, 0.749 does not.
  assert.equal(by.get('binary')?.meetsRelative, true);
  assert.equal(by.get('grpc')?.meetsRelative, false);
});

test('a low JSON share cannot hide a slow protocol: the rule is relative to JSON', () => {
  // JSON at a small share of the ceiling: 5 points below it (the old absolute rule) would pass gRPC at 0.69 × JSON.
  const rows = protocolRows(model('cnn', { json: 80, binary: 160, grpc: 55, 'grpc-2ch': 55 }));
  const grpc = rows.find((r) => r.figure.protocol === 'grpc');
  assert.equal(grpc?.verdict, 'FAIL');
  assert.equal(grpc?.meetsRelative, false);
  assert.equal(rows.find((r) => r.figure.protocol === 'binary')?.verdict, 'PASS');
  const targets = protocolTargets(
    { data: result([model('cnn', { json: 80, binary: 160, grpc: 55, 'grpc-2ch': 55 })]) },
    whyMissing,
  );
  const row = targets.find((t) => t.name.includes(': grpc vs'));
  assert.equal(row?.target, '≥ 0.95 × JSON, A/A within ±5%');
  assert.ok(Math.abs((row?.ratio ?? 0) - 55 / 80) < 1e-9);
  assert.match(row?.note ?? '', /share of the ceiling/);
});

test('failed requests or outputs that differ fail whatever the throughput', () => {
  const failing = model('enc', { json: 800, binary: 900, grpc: 900, 'grpc-2ch': 900 });
  failing.figures[1] = figure('binary', 900, 3);
  assert.equal(protocolRows(failing).find((r) => r.figure.protocol === 'binary')?.verdict, 'FAIL');
  const differ = protocolRows(model('enc', { json: 800, binary: 900, grpc: 900, 'grpc-2ch': 900 }, false));
  assert.ok(
    differ
      .filter((r) => r.verdict !== null)
      .every((r) => r.verdict === 'FAIL' && /outputs differ/.test(r.note)),
  );
});

function result(models: ProtocolModelResult[], skippedModels: string[] = []): ProtocolsResult {
  return { clients: 16, maxBatchSize: 16, delayUs: 0, models, skippedModels };
}

test('protocolTargets gives binary and 1-channel gRPC rows per model, NOT RUN for skipped models and errors', () => {
  const rows = protocolTargets(
    {
      data: result(
        [model('small_cnn', { json: 800, binary: 900, grpc: 790, 'grpc-2ch': 100 })],
        ['text_encoder_6l'],
      ),
    },
    whyMissing,
  );
  assert.deepEqual(
    rows.map((r) => r.verdict),
    ['PASS', 'PASS', 'NOT RUN'],
  );
  assert.match(rows[1]?.name ?? '', /small_cnn: grpc vs JSON/);
  assert.match(rows[2]?.note ?? '', /text_encoder_6l\.onnx is absent/);
  assert.deepEqual(protocolTargets(undefined, whyMissing), []);
  const failed = protocolTargets({ error: 'server did not start' }, (o) =>
    'error' in (o ?? {}) ? 'error: server did not start' : '',
  );
  assert.equal(failed[0]?.verdict, 'NOT RUN');
});

test('a protocol row is judged only when the A/A controls of JSON and the protocol hold', () => {
  const noisy = model('enc', { json: 800, binary: 900, grpc: 800, 'grpc-2ch': 800 });
  // Binary's runs alternate 860 / 940: its odd runs over its even ones = 0.91.
  noisy.figures = noisy.figures.map((f) =>
    f.protocol === 'binary' ? figure('binary', 900, 0, [860, 940, 860, 940]) : f,
  );
  const rows = protocolTargets({ data: result([noisy]) }, whyMissing);
  assert.equal(rows[0]?.verdict, 'INCONCLUSIVE');
  assert.match(rows[0]?.note ?? '', /A\/A 1\.00 \(JSON\), 0\.91 \(binary\)/);
  assert.match(rows[0]?.note ?? '', /too noisy to judge/);
  assert.equal(rows[1]?.verdict, 'PASS');
  assert.match(rows[1]?.target ?? '', /A\/A within ±5%/);
  // A disturbed run is left out of the control as it is out of the medians.
  const disturbed = figure('grpc', 800, 0, [800, 600, 800]);
  disturbed.runs[1] = { ...(disturbed.runs[1] as (typeof disturbed.runs)[number]), disturbed: true };
  const calm = model('enc', { json: 800, binary: 800, grpc: 800, 'grpc-2ch': 800 });
  calm.figures = calm.figures.map((f) => (f.protocol === 'grpc' ? disturbed : f));
  assert.equal(protocolTargets({ data: result([calm]) }, whyMissing)[1]?.verdict, 'PASS');
});

const machine = {
  cpuModel: 'Test CPU',
  cores: 2,
  memoryGiB: 4,
  node: 'v20.20.0',
  onnxruntime: '1.30.0',
  tend: '0.1.0',
  wrk: '4.1.0',
  busyCoresAtStart: 0,
  int8Extensions: 'VNNI',
};

test('the report adds the protocol targets and a section stating the rule', () => {
  const results: BenchResults = {
    machine,
    settings: {
      quick: false,
      runs: 3,
      durationSeconds: 8,
      warmupSeconds: 2,
      computeSecondsPerRun: 2,
      command: 'npm run bench',
    },
    date: new Date('2025-01-01T00:00:00Z'),
    elapsedSeconds: 60,
    protocols: { data: result([model('small_cnn', { json: 800, binary: 900, grpc: 700, 'grpc-2ch': 760 })]) },
  };
  const targets = evaluateTargets(results);
  assert.deepEqual(
    targets.slice(-2).map((t) => t.verdict),
    ['PASS', 'FAIL'],
  );
  const md = renderMarkdown(results);
  assert.match(md, /## 5\. Protocols/);
  assert.match(md, /ratio ≥ 0\.95 × JSON's ratio/);
  assert.match(md, /\| small_cnn \| y FP32 \[1,2\] \| bit-identical \|/);
  // Without the section, the report says it was not measured and adds no target rows.
  const without: BenchResults = { ...results };
  delete without.protocols;
  assert.match(renderMarkdown(without), /## 5\. Protocols[^\n]*\n\n_Not measured: section not run\._/);
  assert.equal(evaluateTargets(without).length, 3);
});

test('undisturbed keeps the clean runs, or all of them when none is clean', () => {
  const a = { v: 1, disturbed: false };
  const b = { v: 2, disturbed: true };
  assert.deepEqual(undisturbed([a, b, a]), [a, a]);
  assert.deepEqual(undisturbed([b, b]), [b, b]);
});
