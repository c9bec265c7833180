/**
 * Section 11: what authentication costs. Two `tend serve` processes serve the trained digits model
 * from the same repository: one with a token (every request sends `Authorization: Bearer …`, which
 * the server hashes and checks against the access table), one with no token configured. Their wrk
 * runs alternate at each concurrency.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { generateToken } from '../security/index.js';
import { checkInferEndpoint, measureInterleaved, readBatchCounter, type LoadFigure } from './http-load.js';
import { addToRepository, digitsArtifact, HTTP_CONCURRENCIES, withServer, type SectionContext } from './sections.js';
import { startTendServer } from './servers.js';
import { writePostScript } from './wrk.js';

export interface AuthLevel {
  connections: number;
  off: LoadFigure;
  on: LoadFigure;
}

export interface AuthResult {
  levels: AuthLevel[];
}

/** Throughput and latency with a bearer token checked on every request vs no authentication. */
export async function runAuth(ctx: SectionContext): Promise<AuthResult> {
  const digits = digitsArtifact(ctx);
  const repo = join(ctx.workDir, 'repo-auth');
  addToRepository(repo, 'digits', digits.model.path, null);
  const token = generateToken();
  const tokensFile = join(ctx.workDir, 'tokens');
  writeFileSync(tokensFile, `bench:infer,read:${token}\n`, { mode: 0o600 });
  const onConfig = join(ctx.workDir, 'auth-on.yaml');
  writeFileSync(onConfig, toYaml({ security: { tokens_file: tokensFile } }));
  const plainScript = writePostScript(ctx.workDir, 'auth-off', digits.body);
  const tokenScript = writePostScript(ctx.workDir, 'auth-on', digits.body, { Authorization: `Bearer ${token}` });
  return withServer(
    () => startTendServer({ name: 'auth-on', repos: [repo], home: join(ctx.workDir, 'home-auth-on'), logDir: ctx.workDir, configPath: onConfig }),
    (on) =>
      withServer(
        () => startTendServer({ name: 'auth-off', repos: [repo], home: join(ctx.workDir, 'home-auth-off'), logDir: ctx.workDir }),
        async (off) => {
          const onUrl = `${on.baseUrl}/v2/models/digits/infer`;
          const offUrl = `${off.baseUrl}/v2/models/digits/infer`;
          const refused = await fetch(onUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: digits.body });
          if (refused.status !== 401) throw new Error(`the server with a token answered ${refused.status} without one; expected 401`);
          await checkInferEndpoint(offUrl, digits.body, ['probabilities', 'label']);
          const levels: AuthLevel[] = [];
          const counter = (url: string) => () => readBatchCounter(url, 'digits', { authorization: `Bearer ${token}` });
          for (const c of HTTP_CONCURRENCIES) {
            const [plain, authed] = await measureInterleaved(
              [
                { label: 'no auth', url: offUrl, scriptPath: plainScript, batchCounter: () => readBatchCounter(off.baseUrl, 'digits') },
                { label: 'bearer token', url: onUrl, scriptPath: tokenScript, batchCounter: counter(on.baseUrl) },
              ],
              c,
              ctx.load,
            );
            if (plain && authed) levels.push({ connections: c, off: plain, on: authed });
          }
          return { levels };
        },
      ),
  );
}
