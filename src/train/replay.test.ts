import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayBuffer } from './replay.js';
import { readTrainingCsv } from './training-csv.js';
import { hasCode } from '../core/test-support.test-helper.js';

const isArgError = (pattern: RegExp) => hasCode('TEND_INVALID_ARGUMENT', pattern);

function table(from: number, count: number) {
  const lines = ['a,b,y'];
  for (let i = from; i < from + count; i++) lines.push(`${i},${-i},${i % 2 === 0 ? 'even' : 'odd'}`);
  return readTrainingCsv(lines.join('\n'), 't.csv', 'y', 'classification');
}

test('the buffer keeps everything until full, then a uniform sample of all rows offered', () => {
  const buffer = new ReplayBuffer(100, 1);
  assert.equal(buffer.asTable(), null);
  buffer.addTable(table(0, 60));
  assert.equal(buffer.size, 60);
  assert.deepEqual([...(buffer.asTable()?.features.subarray(0, 4) ?? [])], [0, 0, 1, -1]);
  for (let k = 1; k < 50; k++) buffer.addTable(table(k * 60, 60));
  assert.equal(buffer.seen, 3000);
  assert.equal(buffer.size, 100);
  const kept = buffer.asTable();
  assert.ok(kept !== null);
  const ids = Array.from({ length: kept.rows }, (_, r) => kept.features[r * 2] as number);
  // Rows stay whole: features and labels move together.
  for (let r = 0; r < kept.rows; r++) {
    assert.equal(kept.features[r * 2 + 1], -(ids[r] as number));
    assert.equal(kept.labels?.[r], (ids[r] as number) % 2 === 0 ? 0 : 1);
  }
  // A uniform sample of 0..2999: about a third from each third (binomial sd ≈ 4.7 of 33).
  const thirds = [0, 0, 0];
  for (const id of ids) thirds[Math.floor(id / 1000)]! += 1;
  for (const count of thirds) assert.ok(count > 15 && count < 52, `thirds ${thirds.join(', ')}`);
  assert.equal(new Set(ids).size, 100);
});

test('the same seed keeps the same rows; rows must fit the schema', () => {
  const fill = (seed: number) => {
    const buffer = new ReplayBuffer(10, seed);
    buffer.addTable(table(0, 500));
    return buffer.asTable()?.features;
  };
  assert.deepEqual(fill(3), fill(3));
  assert.notDeepEqual(fill(3), fill(4));
  const buffer = new ReplayBuffer(10, 1);
  assert.throws(() => buffer.addRow([1, 2], 0), isArgError(/no columns yet/));
  buffer.addTable(table(0, 5));
  buffer.addRow([7, -7], 1);
  assert.equal(buffer.size, 6);
  assert.throws(() => buffer.addRow([1], 0), isArgError(/needs 2 features/));
  assert.throws(() => buffer.addRow([1, 2], 2), isArgError(/class index must be in 0\.\.1/));
  const other = readTrainingCsv('a,c,y\n1,2,even\n3,4,odd\n', 'o.csv', 'y', 'classification');
  assert.throws(() => buffer.addTable(other), isArgError(/do not fit the replay buffer/));
  assert.throws(() => new ReplayBuffer(0, 1), isArgError(/capacity must be a positive integer/));
  const regression = new ReplayBuffer(3, 1, { featureColumns: ['x'], targetColumn: 'y', task: 'regression' });
  regression.addRow([1], 2.5);
  assert.deepEqual([...(regression.asTable()?.target ?? [])], [2.5]);
  assert.throws(() => regression.addRow([1], Number.NaN), isArgError(/finite number/));
});
