/**
 * The Python peer: FastAPI + PyTorch serving the digits model (bench/fastapi_peer.py), run by
 * Debian's /usr/bin/python3 under uvicorn with 2 worker processes and no access log. It is what a
 * team without tend would write; the digits section measures tend against it.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../src/cli/commands/bench.js';
import { REPO_ROOT, startChild, type ChildServer } from './servers.js';

export const PEER_PYTHON = '/usr/bin/python3';
export const PEER_WORKERS = 2;
export const PEER_TORCH_THREADS = 1;

/** How the peer runs, for BENCHMARKS.md. */
export interface PeerInfo {
  versions: string;
  command: string;
}

/** Versions of the peer's packages, or null with the reason it cannot run here. */
export function peerAvailable(): { versions: string } | { missing: string } {
  const probe = spawnSync(
    PEER_PYTHON,
    [
      '-c',
      'import fastapi, uvicorn, uvloop, httptools, torch, onnx, sys; ' +
        'print(f"Python {sys.version.split()[0]}, FastAPI {fastapi.__version__}, uvicorn {uvicorn.__version__} ' +
        '(uvloop {uvloop.__version__}, httptools {httptools.__version__}), PyTorch {torch.__version__}")',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (probe.status !== 0)
    return {
      missing:
        `${PEER_PYTHON} cannot import fastapi, uvicorn, uvloop, httptools, torch and onnx (apt-get install -y ` +
        'python3-fastapi python3-uvicorn python3-uvloop python3-httptools python3-torch python3-onnx)',
    };
  return { versions: probe.stdout.trim() };
}

export function peerCommand(port: number | string): string[] {
  return [
    '-m',
    'uvicorn',
    'fastapi_peer:app',
    '--app-dir',
    join(REPO_ROOT, 'bench'),
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--workers',
    String(PEER_WORKERS),
    // uvicorn[standard]'s fast parts, as a production deployment runs it.
    '--loop',
    'uvloop',
    '--http',
    'httptools',
    '--no-access-log',
    '--log-level',
    'warning',
  ];
}

/** Start the peer on a free port serving the ONNX file's weights; ready when /v2/health/ready answers. */
export async function startFastApiPeer(modelPath: string, logDir: string): Promise<ChildServer> {
  const port = await freePort();
  return startChild({
    name: 'FastAPI + PyTorch peer',
    command: PEER_PYTHON,
    args: peerCommand(port),
    env: { TEND_PEER_MODEL: modelPath, TEND_PEER_TORCH_THREADS: String(PEER_TORCH_THREADS) },
    port,
    logPath: join(logDir, 'fastapi-peer.log'),
    readyPath: '/v2/health/ready',
    readyTimeoutMs: 120_000,
  });
}
