/**
 * Section 11: what authentication costs.
 *
 * One `tend serve` process serves the trained digits model; authentication is switched on and off
 * between runs through the server's own token API, which applies token changes at once: "on" is two
 * tokens in its registry (an admin token and the client's `infer,read` token, which wrk sends on every
 * request), "off" is every token revoked, which is a server with no token configured. One process for
 * both halves, because two identical `tend serve` processes measured side by side differ by several
 * per cent on their own (process placement, memory layout); short runs in pairs (ABBA order), because
 * this 2-core VM's speed wanders by ±20% from one second to the next. The figure is the geometric
 * mean of the per-pair ratios with a bootstrap interval, next to a control measured the same way
 * with auth off in both halves of every pair (its ratio shows what the method reads when nothing
 * differs).
 *
 * The access check alone is also timed in the bench process, per call, with a token (the path every
 * authenticated request takes) and with no token configured.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../src/core/logger.js';
import { AccessControl, createApiToken } from '../src/engine/index.js';
import { Registry } from '../src/registry/index.js';
import { checkInferEndpoint, summarize, type LoadFigure } from './http-load.js';
import {
  addToRepository,
  digitsArtifact,
  HTTP_CONCURRENCIES,
  withServer,
  type SectionContext,
} from './sections.js';
import { processCpuSeconds } from './cpu-accounting.js';
import { startTendServer, type ChildServer } from './servers.js';
import { median, pairedRatio, type PairedRatio } from './statistics.js';
import { runWrk, writePostScript, type WrkResult } from './wrk.js';

/** The concurrency the target is set at: the control is measured there. */
export const AUTH_TARGET_CONNECTIONS = 32;
/** Seconds per run: short, so that both halves of a pair see the machine in the same mood. */
const RUN_SECONDS = 1;

export interface AuthLevel {
  connections: number;
  off: LoadFigure;
  on: LoadFigure;
  /** Token over no auth, from the pairs. */
  paired: PairedRatio;
  /** CPU time the server process (all its threads) used per request, over all runs of each kind; null without /proc. */
  cpuUsPerRequest: { off: number | null; on: number | null };
}

export interface AuthResult {
  levels: AuthLevel[];
  /** No auth over no auth, measured like the target level: what the method reads when nothing differs. */
  control: PairedRatio | null;
  runSeconds: number;
  /** The access check alone, ns per call (median of repetitions): with a token, and with none configured. */
  checkNs: { token: number; none: number } | null;
}

/**
 * Pairs at each level. A 1 s run here varies by about 15% (sd of the log of a pair's ratio), so 60
 * pairs put the 95% interval of the mean about ±4% wide; 15 pairs left it ±8% (0.93 at 8 clients one
 * run, 0.98 with 60 pairs the next).
 */
export function authPairs(runs: number): number {
  return 20 * runs;
}

/** Switches a server's authentication on and off through its token API. */
class AuthSwitch {
  private tokens: { admin: string; ids: string[]; script: string } | null = null;
  private made = 0;

  constructor(
    private readonly server: ChildServer,
    private readonly workDir: string,
    private readonly body: string,
    private readonly plainScript: string,
  ) {}

  /** Turn auth on (if off) and return the wrk script that sends the client's token. */
  async on(): Promise<string> {
    if (this.tokens === null) await this.makeTokens();
    // Every half checks its state with one request before its run, so that both halves do the same.
    await this.expect(401, 'auth on: a request without a token');
    return (this.tokens as { script: string }).script;
  }

  private async makeTokens(): Promise<void> {
    const n = this.made++;
    // With no token configured, loopback callers need none, so the first (admin) token is made without one.
    const admin = await this.api('POST', '/api/v1/tokens', { name: `bench-admin-${n}`, scopes: ['admin'] });
    const client = await this.api(
      'POST',
      '/api/v1/tokens',
      { name: `bench-client-${n}`, scopes: ['infer', 'read'] },
      admin.token,
    );
    const script = writePostScript(this.workDir, `auth-on-${n}`, this.body, {
      Authorization: `Bearer ${client.token}`,
    });
    this.tokens = { admin: admin.token, ids: [client.id, admin.id], script };
  }

  /**
   * Turn auth off (if on) and return the wrk script that sends no token. Revoking every token no
   * longer turns authentication off (it is a latch until restart): the server runs with
   * TEND_FAULT_INJECTION=1, whose admin-only debug route revokes the tokens and clears the latch.
   */
  async off(): Promise<string> {
    if (this.tokens !== null) {
      await this.api('POST', '/v2/debug/auth/off', {}, this.tokens.admin);
      this.tokens = null;
    }
    await this.expect(200, 'auth off: a request without a token');
    return this.plainScript;
  }

  private async api(
    method: string,
    path: string,
    body: unknown,
    token?: string,
  ): Promise<{ id: string; token: string }> {
    const res = await fetch(this.server.baseUrl + path, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as { id: string; token: string };
  }

  private async expect(status: number, what: string): Promise<void> {
    const res = await fetch(`${this.server.baseUrl}/v2/models/digits/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: this.body,
    });
    await res.arrayBuffer();
    if (res.status !== status) throw new Error(`${what} answered ${res.status}, expected ${status}`);
  }
}

type Half = 'a' | 'b';

/**
 * `pairs` pairs of runs, each half preceded by its `prepare` (which returns the wrk script), the
 * order alternating (AB BA AB ...). Returns the runs of each half and the per-pair ratios b/a.
 */
async function measurePairs(
  server: ChildServer,
  url: string,
  connections: number,
  pairs: number,
  prepare: Record<Half, () => Promise<string>>,
  log: (line: string) => void,
  label: Record<Half, string>,
): Promise<{
  a: WrkResult[];
  b: WrkResult[];
  ratios: number[];
  cpuUsPerRequest: Record<Half, number | null>;
}> {
  for (const half of ['a', 'b'] as const)
    await runWrk({ url, scriptPath: await prepare[half](), connections, durationSeconds: 2 });
  const runs: Record<Half, WrkResult[]> = { a: [], b: [] };
  const ratios: number[] = [];
  const cpu: Record<Half, { seconds: number; requests: number }> = {
    a: { seconds: 0, requests: 0 },
    b: { seconds: 0, requests: 0 },
  };
  for (let i = 0; i < pairs; i++) {
    const order: Half[] = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
    for (const half of order) {
      const scriptPath = await prepare[half]();
      const before = processCpuSeconds(server.pid);
      const result = await runWrk({ url, scriptPath, connections, durationSeconds: RUN_SECONDS });
      const after = processCpuSeconds(server.pid);
      if (before !== null && after !== null) {
        cpu[half].seconds += after - before;
        cpu[half].requests += result.requests;
      }
      runs[half].push(result);
    }
    const a = runs.a[i] as WrkResult;
    const b = runs.b[i] as WrkResult;
    ratios.push(b.requestsPerSecond / a.requestsPerSecond);
  }
  const rate = (rs: WrkResult[]): string => Math.round(median(rs.map((r) => r.requestsPerSecond))).toString();
  const p = pairedRatio(ratios);
  log(
    `  c=${connections}, ${pairs} pairs of ${RUN_SECONDS} s: ${label.a} ${rate(runs.a)} req/s, ${label.b} ${rate(runs.b)} req/s (medians); ratio ${p.ratio.toFixed(3)} [${p.low.toFixed(3)}, ${p.high.toFixed(3)}]`,
  );
  const perRequest = (h: Half): number | null =>
    cpu[h].requests > 0 ? (cpu[h].seconds / cpu[h].requests) * 1e6 : null;
  return { ...runs, ratios, cpuUsPerRequest: { a: perRequest('a'), b: perRequest('b') } };
}

/** Throughput with a bearer token checked on every request vs no authentication, on one server. */
export async function runAuth(ctx: SectionContext): Promise<AuthResult> {
  const digits = digitsArtifact(ctx);
  const checkNs = await timeAccessCheck(join(ctx.workDir, 'auth-check'));
  ctx.log(
    `  the access check alone: ${checkNs.token.toFixed(0)} ns per call with a token, ${checkNs.none.toFixed(0)} ns with none configured`,
  );
  const repo = join(ctx.workDir, 'repo-auth');
  addToRepository(repo, 'digits', digits.model.path, null);
  const plainScript = writePostScript(ctx.workDir, 'auth-off', digits.body);
  return withServer(
    () =>
      startTendServer({
        name: 'auth',
        repos: [repo],
        home: join(ctx.workDir, 'home-auth'),
        logDir: ctx.workDir,
        env: { TEND_FAULT_INJECTION: '1' },
      }),
    async (server) => {
      const url = `${server.baseUrl}/v2/models/digits/infer`;
      await checkInferEndpoint(url, digits.body, ['probabilities', 'label']);
      const auth = new AuthSwitch(server, ctx.workDir, digits.body, plainScript);
      const levels: AuthLevel[] = [];
      let control: PairedRatio | null = null;
      for (const c of HTTP_CONCURRENCIES) {
        const pairs = authPairs(ctx.load.runs);
        const m = await measurePairs(
          server,
          url,
          c,
          pairs,
          { a: () => auth.off(), b: () => auth.on() },
          ctx.log,
          { a: 'no auth', b: 'token' },
        );
        levels.push({
          connections: c,
          off: summarize(c, m.a, null),
          on: summarize(c, m.b, null),
          paired: pairedRatio(m.ratios),
          cpuUsPerRequest: { off: m.cpuUsPerRequest.a, on: m.cpuUsPerRequest.b },
        });
        if (c === AUTH_TARGET_CONNECTIONS) {
          const a = await measurePairs(
            server,
            url,
            c,
            pairs,
            { a: () => auth.off(), b: () => auth.off() },
            ctx.log,
            { a: 'no auth', b: 'no auth (control)' },
          );
          control = pairedRatio(a.ratios);
        }
      }
      return { levels, control, runSeconds: RUN_SECONDS, checkNs };
    },
  );
}

const CHECK_CALLS = 1_000_000;
const CHECK_REPETITIONS = 5;

/** ns per call of the access check an inference request passes, with a token and with none configured. */
async function timeAccessCheck(dir: string): Promise<{ token: number; none: number }> {
  const logger = createLogger('silent');
  const time = async (home: string, withToken: boolean): Promise<number> => {
    mkdirSync(home, { recursive: true });
    const registry = await Registry.open(home);
    try {
      const header = withToken
        ? `Bearer ${(await createApiToken(registry, { name: 'bench', scopes: 'infer,read' })).token}`
        : undefined;
      const control = await AccessControl.open(registry, logger, '');
      const perCall: number[] = [];
      let granted = 0;
      for (let r = 0; r < CHECK_REPETITIONS; r++) {
        const start = process.hrtime.bigint();
        for (let i = 0; i < CHECK_CALLS; i++) {
          // What the HTTP hook does per request: look the route up, then check the caller.
          const access = AccessControl.httpAccess('POST', '/v2/models/:model/infer');
          const outcome = control.check(access, header, 'digits');
          if (!(outcome instanceof Promise) && outcome.ok) granted += 1;
        }
        perCall.push(Number(process.hrtime.bigint() - start) / CHECK_CALLS);
        // Let the once-a-second token refresh run, as it does in a server.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (granted !== CHECK_CALLS * CHECK_REPETITIONS)
        throw new Error(`the access check refused ${CHECK_CALLS * CHECK_REPETITIONS - granted} of its calls`);
      return median(perCall);
    } finally {
      await registry.close();
    }
  };
  return { token: await time(join(dir, 'with-token'), true), none: await time(join(dir, 'no-token'), false) };
}
