import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTraining, trainingTargets } from './report-training.js';
import { probeSklearn, type TrainingResult, type TrainingSpeed } from './training.js';

const why = (): string => 'section not run';
const speed = (batchSize: number, tend: number, sklearn: number | null): TrainingSpeed => ({
  batchSize,
  tend,
  typescript: 50,
  sklearn,
  tendRuns: [tend, tend, tend],
  sklearnRuns: sklearn === null ? [] : [sklearn, sklearn, sklearn],
});
const result = (sklearn: TrainingResult['sklearn'], rows: TrainingSpeed[]): TrainingResult => ({
  rows: 1797,
  features: 64,
  classes: 10,
  epochs: 100,
  typescriptEpochs: 10,
  runs: 3,
  sklearn,
  speed: rows,
  online: { samplesPerSecond: 30000, samples: 5391, progressiveAccuracy: 0.97 },
});

test("each batch size is a target: tend epochs/s over scikit-learn's, passing at 1.0 or more", () => {
  const rows = trainingTargets(
    { data: result({ version: '1.2.1' }, [speed(200, 600, 300), speed(32, 100, 110)]) },
    why,
  );
  assert.deepEqual(
    rows.map((r) => r.verdict),
    ['PASS', 'FAIL'],
  );
  assert.equal(rows[0]?.ratio, 2);
  assert.match(rows[0]?.baseline ?? '', /scikit-learn 1\.2\.1/);
  assert.match(rows[1]?.name ?? '', /batch 32/);
  assert.match(rows[0]?.note ?? '', /A\/A 1\.00 \(tend\), 1\.00 \(scikit-learn\)/);
});

test('a training row is judged only when both sides repeat within 5% (A/A)', () => {
  const noisy = { ...speed(200, 600, 300), sklearnRuns: [300, 360, 300] };
  const [row] = trainingTargets({ data: result({ version: '1.2.1' }, [noisy]) }, why);
  assert.equal(row?.verdict, 'INCONCLUSIVE');
  assert.match(row?.note ?? '', /0\.83 \(scikit-learn\); too noisy to judge/);
  const single = { ...speed(200, 600, 300), tendRuns: [600] };
  assert.equal(
    trainingTargets({ data: result({ version: '1.2.1' }, [single]) }, why)[0]?.verdict,
    'INCONCLUSIVE',
  );
});

test('without scikit-learn the rows say NOT RUN with the reason, and the table still shows tend', () => {
  const missing = result({ missing: '/usr/bin/python3 has no sklearn (apt-get install python3-sklearn)' }, [
    speed(200, 600, null),
  ]);
  const rows = trainingTargets({ data: missing }, why);
  assert.deepEqual(
    rows.map((r) => r.verdict),
    ['NOT RUN'],
  );
  assert.match(rows[0]?.note ?? '', /has no sklearn/);
  const text = renderTraining({ data: missing }, why).join('\n');
  assert.match(text, /\| 200 \| 600 \| NOT RUN — \/usr\/bin\/python3 has no sklearn/);
  assert.match(text, /30,000/);
  assert.deepEqual(
    trainingTargets({ error: 'boom' }, () => 'error: boom').map((r) => r.verdict),
    ['NOT RUN'],
  );
  assert.match(renderTraining(undefined, why).join('\n'), /Not measured: section not run/);
});

test('a missing Python is reported, not thrown', () => {
  const probe = probeSklearn('/nonexistent/python3');
  assert.ok('missing' in probe);
  assert.match(probe.missing, /not found/);
});
