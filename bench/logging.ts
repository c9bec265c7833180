/**
 * Section 7: what the prediction log costs. Two `tend serve` processes serve the trained digits
 * model from the same repository, one with monitoring on (every request logged: sampling 1.0, the
 * default) and one with `monitoring.enabled: false`; their wrk runs alternate at each concurrency.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { checkInferEndpoint, measureInterleaved, readBatchCounter, type LoadFigure } from './http-load.js';
import {
  addToRepository,
  digitsArtifact,
  HTTP_CONCURRENCIES,
  withServer,
  type SectionContext,
} from './sections.js';
import { startTendServer } from './servers.js';
import { writePostScript } from './wrk.js';

export interface LoggingLevel {
  connections: number;
  off: LoadFigure;
  on: LoadFigure;
}

export interface LoggingResult {
  levels: LoggingLevel[];
  /** Rows the logging server wrote and dropped over the whole section (from its /metrics). */
  rowsWritten: number | null;
  rowsDropped: number | null;
}

async function counter(baseUrl: string, name: string): Promise<number | null> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const m = new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

/** Throughput and latency with every request logged vs no logging, at each HTTP concurrency. */
export async function runLogging(ctx: SectionContext): Promise<LoggingResult> {
  const digits = digitsArtifact(ctx);
  const repo = join(ctx.workDir, 'repo-logging');
  addToRepository(repo, 'digits', digits.model.path, null);
  const offConfig = join(ctx.workDir, 'logging-off.yaml');
  writeFileSync(offConfig, toYaml({ monitoring: { enabled: false } }));
  const script = writePostScript(ctx.workDir, 'logging', digits.body);
  return withServer(
    () =>
      startTendServer({
        name: 'logging-on',
        repos: [repo],
        home: join(ctx.workDir, 'home-logging-on'),
        logDir: ctx.workDir,
      }),
    (on) =>
      withServer(
        () =>
          startTendServer({
            name: 'logging-off',
            repos: [repo],
            home: join(ctx.workDir, 'home-logging-off'),
            logDir: ctx.workDir,
            configPath: offConfig,
          }),
        async (off) => {
          const onUrl = `${on.baseUrl}/v2/models/digits/infer`;
          const offUrl = `${off.baseUrl}/v2/models/digits/infer`;
          await checkInferEndpoint(onUrl, digits.body, ['probabilities', 'label']);
          await checkInferEndpoint(offUrl, digits.body, ['probabilities', 'label']);
          const levels: LoggingLevel[] = [];
          for (const c of HTTP_CONCURRENCIES) {
            const [plain, logged] = await measureInterleaved(
              [
                {
                  label: 'logging off',
                  url: offUrl,
                  scriptPath: script,
                  batchCounter: () => readBatchCounter(off.baseUrl, 'digits'),
                },
                {
                  label: 'logging on',
                  url: onUrl,
                  scriptPath: script,
                  batchCounter: () => readBatchCounter(on.baseUrl, 'digits'),
                },
              ],
              c,
              ctx.load,
            );
            if (plain && logged) levels.push({ connections: c, off: plain, on: logged });
          }
          // The gauges and counters refresh every few seconds: wait for one refresh.
          await new Promise((r) => setTimeout(r, 6000));
          return {
            levels,
            rowsWritten: await counter(on.baseUrl, 'tend_prediction_log_rows_total'),
            rowsDropped: await counter(on.baseUrl, 'tend_prediction_log_dropped_total'),
          };
        },
      ),
  );
}
