/**
 * The web dashboard: its static files (assets/dashboard, and uPlot from node_modules — nothing from
 * a CDN), gzipped once in memory and served with a strong ETag, and the JSON it reads.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import type { Engine } from '../../engine/index.js';

interface StaticFile {
  type: string;
  raw: Buffer;
  gzip: Buffer;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** assets/dashboard sits two folders above this module in src/ and in dist/. */
export function dashboardDir(): string {
  return fileURLToPath(new URL('../../../assets/dashboard/', import.meta.url));
}

function load(path: string): StaticFile {
  const raw = readFileSync(path);
  const ext = path.slice(path.lastIndexOf('.'));
  return {
    type: TYPES[ext] ?? 'application/octet-stream',
    raw,
    gzip: gzipSync(raw, { level: 9 }),
    etag: `"${createHash('sha256').update(raw).digest('hex').slice(0, 16)}"`,
  };
}

/** The dashboard's files by URL name, or an empty map when the assets are missing (a partial install). */
function loadAssets(): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const dir = dashboardDir();
  for (const name of ['index.html', 'app.js', 'style.css']) {
    const path = join(dir, name);
    if (existsSync(path)) files.set(name, load(path));
  }
  try {
    const require = createRequire(import.meta.url);
    const uplotDir = dirname(require.resolve('uplot/package.json'));
    files.set('uPlot.iife.min.js', load(join(uplotDir, 'dist', 'uPlot.iife.min.js')));
    files.set('uPlot.min.css', load(join(uplotDir, 'dist', 'uPlot.min.css')));
  } catch {
    // without uPlot the page says the charts cannot be drawn
  }
  return files;
}

function send(file: StaticFile, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  void reply
    .header('content-type', file.type)
    .header('etag', file.etag)
    .header('cache-control', 'no-cache')
    .header('vary', 'accept-encoding');
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  if (gzip) void reply.header('content-encoding', 'gzip');
  return reply.send(gzip ? file.gzip : file.raw);
}

function queryString(query: Record<string, unknown>, key: string): string | undefined {
  const v = query[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw errors.invalidArgument(`give '${key}' once`);
  return v;
}

export function registerDashboardRoutes(app: FastifyInstance, engine: Engine): void {
  const assets = loadAssets();

  app.get('/', async (request, reply) => {
    const index = assets.get('index.html');
    if (!index) throw errors.notFound('the dashboard assets are not installed (assets/dashboard)');
    return send(index, request, reply);
  });

  app.get('/dashboard/:file', async (request: FastifyRequest<{ Params: { file: string } }>, reply) => {
    const file = assets.get(request.params.file);
    if (!file) throw errors.notFound(`no dashboard file '${request.params.file}'`);
    return send(file, request, reply);
  });

  app.get('/api/v1/dashboard/models', async () => ({ models: await engine.monitoring.dashboardModels() }));

  app.get(
    '/api/v1/dashboard/models/:model/series',
    async (request: FastifyRequest<{ Params: { model: string }; Querystring: Record<string, unknown> }>) => {
      const unknown = Object.keys(request.query).filter((k) => k !== 'window' && k !== 'buckets');
      if (unknown.length > 0)
        throw errors.invalidArgument(
          `unknown query parameter(s) ${unknown.join(', ')}; use window (e.g. 15m) and buckets`,
        );
      return engine.monitoring.dashboardSeries(
        request.params.model,
        queryString(request.query, 'window'),
        queryString(request.query, 'buckets'),
      );
    },
  );
}
