import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { addToRepository, digitsArtifact, type SectionContext } from './sections.js';
import { startTendServer, stopAllServers } from './servers.js';
import { runWrk, writePostScript } from './wrk.js';
const workDir = mkdtempSync('/tmp/tprof-');
const log = (l: string) => console.log(l);
const ctx: SectionContext = {
  workDir,
  load: { runs: 1, durationSeconds: 1, warmupSeconds: 0, log },
  computeRuns: 0,
  computeSecondsPerRun: 0,
  memoryCycles: 0,
  memoryReferenceCycle: 0,
  log,
};
const digits = digitsArtifact(ctx);
const repo = join(workDir, 'repo');
addToRepository(repo, 'digits', digits.model.path, null);
const script = writePostScript(workDir, 'd', digits.body);
const dir = join(workDir, 'prof');
const server = await startTendServer({
  name: 'p',
  repos: [repo],
  home: join(workDir, 'home'),
  logDir: workDir,
  nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
});
const url = `${server.baseUrl}/v2/models/digits/infer`;
const warm = await runWrk({ url, scriptPath: script, connections: 32, durationSeconds: 2 });
const run = await runWrk({
  url,
  scriptPath: script,
  connections: 32,
  durationSeconds: Number(process.argv[2] ?? 8),
});
await server.stop();
await stopAllServers();
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .map((f) => join(dir, f))
  .sort((a, b) => statSync(b).size - statSync(a).size);
console.log(`PROFILE ${files[0]} ${warm.requests + run.requests} ${run.requestsPerSecond}`);
