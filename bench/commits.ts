/**
 * The request path across commits: the digits model over V2 JSON served by two builds of tend (an
 * earlier commit and this one), side by side, their wrk runs interleaved and alternating in order
 * (A B, B A, A B, ...). Each commit is checked out into its own git worktree under the scratch folder,
 * shares this checkout's node_modules and is built with this checkout's TypeScript compiler. Both
 * servers start the way a new user starts one: `tend serve --repo` with the default config.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkInferEndpoint,
  measureInterleaved,
  readBatchCounter,
  summarize,
  type LoadFigure,
} from './http-load.js';
import { addToRepository, digitsArtifact, withServer, type SectionContext } from './sections.js';
import { REPO_ROOT, startTendServer } from './servers.js';
import { runWrk, writePostScript } from './wrk.js';

export const COMMITS_CONNECTIONS = 32;

export interface CommitBuild {
  /** As given on the command line (`c8a2e62`, `HEAD`). */
  ref: string;
  sha: string;
  subject: string;
}

export interface CommitsResult {
  before: CommitBuild;
  after: CommitBuild;
  connections: number;
  beforeFigure: LoadFigure;
  afterFigure: LoadFigure;
  /** after/before of each round, in the order measured. */
  roundRatios: number[];
}

function git(args: string[], cwd = REPO_ROOT): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Resolve a ref to its commit, or say plainly which ref git does not know. */
export function resolveCommit(ref: string): CommitBuild {
  let sha: string;
  try {
    sha = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  } catch {
    throw new Error(`--before/--after: git knows no commit '${ref}' in ${REPO_ROOT}`);
  }
  return { ref, sha, subject: git(['log', '-1', '--format=%s', sha]) };
}

/** Check the commit out into `<workDir>/commit-<sha>` and build it; returns the checkout's root. */
function checkoutAndBuild(ctx: SectionContext, build: CommitBuild): string {
  const dir = join(ctx.workDir, `commit-${build.sha.slice(0, 12)}`);
  if (!existsSync(dir)) {
    git(['worktree', 'add', '--detach', '--force', dir, build.sha]);
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  }
  ctx.log(`  building ${build.sha.slice(0, 12)} (${build.subject})`);
  execFileSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return dir;
}

function removeCheckout(dir: string): void {
  try {
    git(['worktree', 'remove', '--force', dir]);
  } catch {
    // The scratch folder goes away with the bench; `git worktree prune` forgets it then.
  }
}

/** Measure `before` and `after` side by side; `rounds` interleaved wrk runs each. */
export async function runCommits(
  ctx: SectionContext,
  beforeRef: string,
  afterRef: string,
): Promise<CommitsResult> {
  const before = resolveCommit(beforeRef);
  const after = resolveCommit(afterRef);
  const digits = digitsArtifact(ctx);
  const repo = join(ctx.workDir, 'repo-commits');
  addToRepository(repo, 'digits', digits.model.path, null);
  const script = writePostScript(ctx.workDir, 'commits', digits.body);
  const roots = [checkoutAndBuild(ctx, before), checkoutAndBuild(ctx, after)];
  try {
    const start = (name: string, root: string) => () =>
      startTendServer({
        name,
        root,
        repos: [repo],
        home: join(ctx.workDir, `home-${name}`),
        logDir: ctx.workDir,
      });
    return await withServer(start('before', roots[0] as string), (a) =>
      withServer(start('after', roots[1] as string), async (b) => {
        const urls = [a, b].map((s) => `${s.baseUrl}/v2/models/digits/infer`);
        for (const url of urls) await checkInferEndpoint(url, digits.body, ['probabilities', 'label']);
        const targets = [a, b].map((s, i) => ({
          label: i === 0 ? `before ${before.sha.slice(0, 7)}` : `after ${after.sha.slice(0, 7)}`,
          url: urls[i] as string,
          scriptPath: script,
          batchCounter: () => readBatchCounter(s.baseUrl, 'digits'),
        }));
        for (const t of targets)
          await runWrk({
            url: t.url,
            scriptPath: script,
            connections: COMMITS_CONNECTIONS,
            durationSeconds: ctx.load.warmupSeconds,
          });
        // One run per call, with the order flipped every round: the later run of a pair is not always
        // the same commit.
        const figures: LoadFigure[][] = [[], []];
        const roundRatios: number[] = [];
        for (let round = 0; round < ctx.load.runs; round++) {
          const order = round % 2 === 0 ? [0, 1] : [1, 0];
          const pair = await measureInterleaved(
            order.map((i) => targets[i]!),
            COMMITS_CONNECTIONS,
            { ...ctx.load, runs: 1, warmupSeconds: 0 },
          );
          order.forEach((i, k) => figures[i]!.push(pair[k]!));
          const [fb, fa] = [figures[0]!.at(-1)!, figures[1]!.at(-1)!];
          roundRatios.push(fa.requestsPerSecond / fb.requestsPerSecond);
        }
        return {
          before,
          after,
          connections: COMMITS_CONNECTIONS,
          beforeFigure: mergeFigures(figures[0]!),
          afterFigure: mergeFigures(figures[1]!),
          roundRatios,
        };
      }),
    );
  } finally {
    for (const root of roots) removeCheckout(root);
  }
}

/** One figure from single-run figures: medians over every run, batch sizes averaged. */
function mergeFigures(figures: LoadFigure[]): LoadFigure {
  const batches = figures.map((f) => f.meanBatchSize).filter((b): b is number => b !== null);
  return summarize(
    COMMITS_CONNECTIONS,
    figures.flatMap((f) => f.runs),
    batches.length > 0 ? batches.reduce((x, y) => x + y, 0) / batches.length : null,
  );
}
