/**
 * Section 6: what a shadow costs the caller. One `tend serve` holds two endpoints of the same
 * trained digits model with the same config: `plain` routes every request to its champion;
 * `mirrored` does too and mirrors each one to a shadow version (the same network), whose answers
 * are compared and never returned. wrk runs against the two are interleaved at each concurrency.
 */
import { join } from 'node:path';
import { Registry } from '../src/registry/index.js';
import { checkInferEndpoint, measureInterleaved, type LoadFigure } from './http-load.js';
import { digitsArtifact, HTTP_CONCURRENCIES, withServer, type SectionContext } from './sections.js';
import { startTendServer } from './servers.js';
import { writePostScript } from './wrk.js';

export interface ShadowLevel {
  connections: number;
  off: LoadFigure;
  on: LoadFigure;
}

/** The shadow comparison the server reported after the runs (GET /api/v1/deployments/mirrored). */
export interface ShadowTally {
  compared: number;
  skipped: number;
  errors: number;
  agreementRate: number | null;
  maxAbsDiff: number | null;
}

export interface ShadowResult {
  levels: ShadowLevel[];
  tally: ShadowTally | null;
  maxInFlight: number;
}

/** Register the two endpoints and their routes in a fresh registry home. */
async function prepareHome(home: string, modelPath: string): Promise<void> {
  const registry = await Registry.open(home);
  try {
    await registry.models.push(modelPath, { name: 'plain' });
    await registry.models.push(modelPath, { name: 'mirrored' });
    await registry.models.push(modelPath, { name: 'mirrored' });
    await registry.deployments.put('plain', { champion: 1 }, { action: 'put' });
    await registry.deployments.put('mirrored', { champion: 1, shadow: { version: 2 } }, { action: 'shadow' });
  } finally {
    await registry.close();
  }
}

async function readTally(baseUrl: string): Promise<ShadowTally | null> {
  const res = await fetch(`${baseUrl}/api/v1/deployments/mirrored`);
  if (!res.ok) return null;
  const body = (await res.json()) as {
    shadow?: {
      count: number;
      skipped: number;
      shadow_errors: number;
      agreement_rate: number | null;
      max_abs_diff: number | null;
    } | null;
  };
  const s = body.shadow;
  if (!s) return null;
  return {
    compared: s.count,
    skipped: s.skipped,
    errors: s.shadow_errors,
    agreementRate: s.agreement_rate,
    maxAbsDiff: s.max_abs_diff,
  };
}

/** Caller latency and throughput with a shadow on vs off, at each HTTP concurrency. */
export async function runShadow(ctx: SectionContext, maxInFlight: number): Promise<ShadowResult> {
  const digits = digitsArtifact(ctx);
  const home = join(ctx.workDir, 'home-shadow');
  await prepareHome(home, digits.model.path);
  const script = writePostScript(ctx.workDir, 'shadow', digits.body);
  return withServer(
    () => startTendServer({ name: 'shadow', repos: [], home, logDir: ctx.workDir }),
    async (tend) => {
      const off = `${tend.baseUrl}/v2/models/plain/infer`;
      const on = `${tend.baseUrl}/v2/models/mirrored/infer`;
      await checkInferEndpoint(off, digits.body, ['probabilities', 'label']);
      await checkInferEndpoint(on, digits.body, ['probabilities', 'label']);
      const levels: ShadowLevel[] = [];
      for (const c of HTTP_CONCURRENCIES) {
        const [plain, mirrored] = await measureInterleaved(
          [
            { label: 'shadow off', url: off, scriptPath: script },
            { label: 'shadow on', url: on, scriptPath: script },
          ],
          c,
          ctx.load,
        );
        if (plain && mirrored) levels.push({ connections: c, off: plain, on: mirrored });
      }
      return { levels, tally: await readTally(tend.baseUrl), maxInFlight };
    },
  );
}
