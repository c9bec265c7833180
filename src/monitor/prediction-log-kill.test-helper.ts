/**
 * Child process of the kill test: records and flushes `count` rows, says "flushed", then keeps
 * recording until it is killed. Usage: node --import tsx prediction-log-kill.test-helper.ts <path> <count>
 */
import { PredictionLog } from './prediction-log.js';
import { predictionRow } from './prediction-log.test-helper.js';

const [path, countText] = process.argv.slice(2);
const count = Number(countText);
const log = PredictionLog.open({ path: path as string, flushIntervalMs: 5 });
let next = 0;
const recordSome = (n: number): void => {
  for (let i = 0; i < n; i++, next++) {
    log.record(
      predictionRow({
        requestId: `r${next}`,
        features: new Float32Array(64).fill(next),
        probabilities: new Float32Array(10).fill(0.1),
      }),
    );
  }
};
recordSome(count);
await log.flush();
process.stdout.write(`flushed ${log.stats.written}\n`);
setInterval(() => recordSome(500), 1);
