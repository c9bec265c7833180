/** Continuous load from a separate process (test/load-process.mjs), for the swap and poll tests. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers.js';

export interface LoadResult {
  ok: number;
  failed: number;
  rate_per_s: number;
  by_version: Record<string, number>;
  error_samples: string[];
}

export interface BackgroundLoad {
  /** Resolves once the first request has succeeded. */
  started: Promise<void>;
  /** Stop sending; resolves with the counts once every request in flight has answered. */
  stop(): Promise<LoadResult>;
}

/** Start `concurrency` closed-loop clients POSTing `body` to `url` from another Node process. */
export function startBackgroundLoad(url: string, body: unknown, concurrency = 4): BackgroundLoad {
  const bodyFile = join(tempDir('load'), 'body.json');
  writeFileSync(bodyFile, JSON.stringify(body));
  const child = spawn(
    process.execPath,
    [join(ROOT, 'test', 'load-process.mjs'), url, bodyFile, String(concurrency)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  let out = '';
  let markStarted: () => void = () => undefined;
  let failStart: (err: Error) => void = () => undefined;
  const started = new Promise<void>((resolve, reject) => {
    markStarted = resolve;
    failStart = reject;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('started\n')) markStarted();
  });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  void exited.then((code) =>
    failStart(new Error(`load process exited (${code}) before a request succeeded: ${out}`)),
  );
  return {
    started,
    async stop() {
      child.stdin.end();
      const code = await exited;
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) throw new Error(`load process exited with ${code}: ${out}`);
      return JSON.parse(last) as LoadResult;
    },
  };
}
