/**
 * `npm run bench:profile [-- --before REF] [--out FILE]`: where a request's time goes on the server's
 * main thread. The digits model (default config) runs under `node --cpu-prof` while wrk sends V2 JSON
 * from 32 connections; the profile's self time is grouped by what it is spent on and divided by the
 * requests served, in µs per request. With --before, an earlier commit's build is profiled the same
 * way, the two interleaved (before, after, before, after). Writes bench/notes/where-time-goes.md, which
 * BENCHMARKS.md includes.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkoutAndBuild, removeCheckout, resolveCommit, type CommitBuild } from './commits.js';
import { addToRepository, digitsArtifact, type SectionContext } from './sections.js';
import { startTendServer, stopAllServers } from './servers.js';
import { PROFILE_NOTES } from './profile-notes.js';
import { runWrk, writePostScript } from './wrk.js';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  samples: number[];
  timeDeltas: number[];
}

/** What a sample's leaf function is spent on. */
export function categoryOf(functionName: string, url: string): string {
  if (functionName === '(idle)') return 'idle (waiting for the batch pipeline or the network)';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (/^write(v|String|Buffer|Utf8String|Latin1String)?$/.test(functionName))
    return 'socket writes (syscalls)';
  if (functionName === 'postMessage' || url.includes('internal/worker'))
    return 'postMessage to the model worker';
  if (functionName === '(program)') return 'V8 and native code outside JavaScript';
  if (/fastify|find-my-way|avvio/.test(url)) return 'Fastify';
  if (url.startsWith('node:')) return "Node's http, streams, events, timers";
  if (url.includes('prom-client')) return 'prom-client (metrics)';
  if (url.includes('better-sqlite3')) return 'SQLite on the main thread';
  if (/\/(server|cli)\//.test(url)) return 'tend: HTTP frontend (parse, hooks, encode)';
  if (url.includes('/batching/')) return 'tend: batcher';
  if (url.includes('/runtime/')) return 'tend: worker client';
  if (/\/(engine|monitor|security)\//.test(url)) return 'tend: engine, routing, monitoring capture';
  if (url.includes('/dist/') || url.includes('/src/')) return 'tend: other';
  if (functionName === 'parse' || functionName === 'stringify') return 'JSON built-ins';
  return 'other native code';
}

/** Self time per category (µs) of a profile. */
export function categorize(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const out = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id);
    if (frame === undefined) return;
    const key = categoryOf(frame.functionName, frame.url);
    out.set(key, (out.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return out;
}

interface ProfileRun {
  build: string;
  requestsPerSecond: number;
  /** µs per request by category. */
  perRequest: Map<string, number>;
}

async function profileOnce(
  ctx: SectionContext,
  label: string,
  root: string | undefined,
  legacy: boolean,
  repo: string,
  script: string,
  seconds: number,
): Promise<ProfileRun> {
  const dir = mkdtempSync(join(ctx.workDir, 'prof-'));
  const server = await startTendServer({
    name: `profile-${label}`,
    repos: [repo],
    home: join(dir, 'home'),
    logDir: dir,
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
    ...(root !== undefined ? { root } : {}),
    ...(legacy ? { noGrpc: true } : {}),
  });
  const url = `${server.baseUrl}/v2/models/digits/infer`;
  let requests = 0;
  let rps = 0;
  try {
    const warm = await runWrk({ url, scriptPath: script, connections: 32, durationSeconds: 2 });
    const run = await runWrk({ url, scriptPath: script, connections: 32, durationSeconds: seconds });
    requests = warm.requests + run.requests;
    rps = run.requestsPerSecond;
  } finally {
    await server.stop();
  }
  // The main thread's profile is the largest file (worker threads write their own).
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  if (files[0] === undefined) throw new Error(`${label}: node wrote no CPU profile`);
  const totals = categorize(JSON.parse(readFileSync(files[0], 'utf8')) as CpuProfile);
  const perRequest = new Map([...totals].map(([k, us]) => [k, us / Math.max(1, requests)]));
  return { build: label, requestsPerSecond: rps, perRequest };
}

function render(runs: ProfileRun[], builds: CommitBuild[], date: Date): string {
  const labels = [...new Set(runs.map((r) => r.build))];
  const keys = [...new Set(runs.flatMap((r) => [...r.perRequest.keys()]))];
  const mean = (label: string, key: string): number => {
    const of = runs.filter((r) => r.build === label);
    return of.reduce((s, r) => s + (r.perRequest.get(key) ?? 0), 0) / of.length;
  };
  const busy = (label: string): number =>
    keys.filter((k) => !k.startsWith('idle')).reduce((s, k) => s + mean(label, k), 0);
  const sorted = keys.sort((a, b) => mean(labels.at(-1) ?? '', b) - mean(labels.at(-1) ?? '', a));
  const out = [
    "## Notes: where a request's time goes (main thread)",
    '',
    `\`npm run bench:profile${builds.length > 1 ? ` -- --before ${builds[0]?.ref}` : ''}\` on ${date.toISOString().slice(0, 16).replace('T', ' ')} UTC: ` +
      'the digits model under `tend serve --repo` (default config) run with `node --cpu-prof`, wrk sending V2 JSON ' +
      "from 32 connections for a 2 s warm-up and a measured run; the main thread's self time grouped by what it is " +
      `spent on, divided by the requests served (µs per request; mean of ${runs.length / labels.length} profiled run(s) per build, ` +
      'interleaved). Profiling slows a server; read the rows against each other, not as throughput. ' +
      builds.map((b) => `\`${b.sha.slice(0, 7)}\` is ${b.subject}`).join('; ') +
      '.',
    '',
    `| spent on (µs per request) | ${labels.join(' | ')} |`,
    `| --- | ${labels.map(() => '---').join(' | ')} |`,
    `| **busy, all categories** | ${labels.map((l) => `**${busy(l).toFixed(1)}**`).join(' | ')} |`,
    ...sorted.map((k) => `| ${k} | ${labels.map((l) => mean(l, k).toFixed(2)).join(' | ')} |`),
    `| req/s while profiled | ${labels.map((l) => Math.round(runs.filter((r) => r.build === l).reduce((s, r) => s + r.requestsPerSecond, 0) / runs.filter((r) => r.build === l).length).toLocaleString('en-US')).join(' | ')} |`,
    '',
  ];
  return out.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      before: { type: 'string' },
      rounds: { type: 'string', default: '2' },
      out: { type: 'string' },
    },
  });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`--rounds must be a positive integer, got '${values.rounds}'`);
  const workDir = mkdtempSync(join(tmpdir(), 'tend-profile-'));
  const ctx: SectionContext = {
    workDir,
    load: { runs: 1, durationSeconds: 10, warmupSeconds: 2, log: console.log },
    computeRuns: 1,
    computeSecondsPerRun: 1,
    memoryCycles: 0,
    memoryReferenceCycle: 0,
    log: (l) => console.log(l),
  };
  const head = resolveCommit('HEAD');
  const before = values.before === undefined ? undefined : resolveCommit(values.before);
  const digits = digitsArtifact(ctx);
  const repo = join(workDir, 'repo');
  addToRepository(repo, 'digits', digits.model.path, null);
  const script = writePostScript(workDir, 'digits', digits.body);
  const beforeRoot = before === undefined ? undefined : checkoutAndBuild(ctx, before);
  const runs: ProfileRun[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      if (before !== undefined && beforeRoot !== undefined) {
        // Builds older than the gRPC frontend know no gRPC flags.
        const legacy = !readFileSync(join(beforeRoot, 'src', 'cli', 'main.ts'), 'utf8').includes('grpc-port');
        runs.push(
          await profileOnce(ctx, `\`${before.sha.slice(0, 7)}\``, beforeRoot, legacy, repo, script, 10),
        );
        console.log(`  profiled ${before.sha.slice(0, 7)} round ${r + 1}`);
      }
      runs.push(
        await profileOnce(ctx, `\`${head.sha.slice(0, 7)}\` (HEAD)`, undefined, false, repo, script, 10),
      );
      console.log(`  profiled HEAD round ${r + 1}`);
    }
  } finally {
    await stopAllServers();
    if (beforeRoot !== undefined) removeCheckout(beforeRoot);
  }
  const text = render(runs, before === undefined ? [head] : [before, head], new Date());
  const out = values.out ?? PROFILE_NOTES;
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, text);
  console.log(text);
  console.log(`written to ${out}`);
  rmSync(workDir, { recursive: true, force: true });
}

if (process.argv[1]?.endsWith('profile.ts')) {
  main().catch(async (err: unknown) => {
    await stopAllServers();
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
