/**
 * The long fuzz run (`npm run fuzz`): start `tend serve` on the fuzz models, send hostile requests,
 * print progress every 10 s and a summary; exit 1 on any unexpected answer, a dead server, or a
 * server that is not ready (or answers differently) afterwards.
 *
 * Usage: node --import tsx test/fuzz/main.ts [--requests N] [--seed S] [--concurrency C] [--show K]
 * Replay one case: add --only INDEX (sends just that request of the seed's sequence).
 */
import { parseArgs } from 'node:util';
import { caseFor, formatSummary, runCampaign } from './campaign.js';
import { describeCase } from './fuzz-case.js';
import { startFuzzSession } from './fuzz-session.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000000' },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    show: { type: 'string', default: '10' },
    only: { type: 'string' },
  },
});

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    process.stderr.write(`error: --${name} must be a non-negative integer, got '${text}'\n`);
    process.exit(1);
  }
  return n;
}

const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : positive('seed', values.seed);
const requests = positive('requests', values.requests);
const concurrency = Math.max(1, positive('concurrency', values.concurrency));
const show = positive('show', values.show);

const session = await startFuzzSession({ maxLogRows: 100_000 });
let failed = false;
try {
  if (values.only !== undefined) {
    const index = positive('only', values.only);
    const c = caseFor(seed, index, session.target.bodyLimitBytes);
    process.stdout.write(`case #${index} of seed ${seed} [${c.category}]\n  ${describeCase(c)}\n`);
  }
  const replay = values.only !== undefined;
  process.stdout.write(
    `fuzzing ${session.target.url} (gRPC ${session.target.grpcAddress}): seed ${seed}, ${replay ? 1 : requests} requests, concurrency ${replay ? 1 : concurrency}\n`,
  );
  const summary = await runCampaign(session.target, {
    seed,
    ...(values.only !== undefined ? { firstIndex: positive('only', values.only) } : {}),
    requests: values.only !== undefined ? 1 : requests,
    concurrency: values.only !== undefined ? 1 : concurrency,
    keepUnexpected: Math.max(show, 50),
    onProgress: (s) =>
      process.stdout.write(
        `  ${s.seconds.toFixed(0)} s: ${s.requests} requests (${s.requestsPerSecond}/s), ${s.unexpectedCount} unexpected, ` +
          `${Object.entries(s.byClass)
            .filter(([, v]) => v > 0)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}\n`,
      ),
  });
  process.stdout.write(`${formatSummary(summary, show)}\n`);
  const worst = Object.entries(summary.byCategory)
    .filter(([, [, bad]]) => bad > 0)
    .sort((a, b) => b[1][1] - a[1][1]);
  if (worst.length > 0)
    process.stdout.write(
      `  unexpected by category: ${worst.map(([k, [n, bad]]) => `${k} ${bad}/${n}`).join(', ')}\n`,
    );
  const problems = await session.checkAfter();
  if (problems.length > 0)
    process.stdout.write(`after the run:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  else
    process.stdout.write(
      'after the run: ready, the reference inference answers as before, nothing logged at error level\n',
    );
  failed = summary.unexpectedCount > 0 || summary.serverDied || problems.length > 0;
} finally {
  await session.close();
}
process.exit(failed ? 1 : 0);
