// A load generator run as its own process by the swap and poll tests, so that the load does not
// share the server's event loop: `node test/load-process.mjs URL BODY_JSON_FILE CONCURRENCY`.
// It prints `started` once a request has succeeded, keeps sending until stdin closes, then prints one
// JSON line: {"ok","failed","rate_per_s","by_version":{...},"error_samples":[...]}.
import http from 'node:http';
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';

const [url, bodyFile, concurrencyText] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const concurrency = Number(concurrencyText ?? '4');
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL(url);

let running = true;
let ok = 0;
let failed = 0;
let announced = false;
const byVersion = {};
const samples = [];
const started = performance.now();

function send() {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode === 200) {
            ok++;
            const version = JSON.parse(text).model_version;
            byVersion[version] = (byVersion[version] ?? 0) + 1;
            if (!announced) {
              announced = true;
              process.stdout.write('started\n');
            }
          } else {
            failed++;
            if (samples.length < 5) samples.push(`${res.statusCode} ${text.slice(0, 300)}`);
          }
          resolve();
        });
      },
    );
    req.on('error', (err) => {
      failed++;
      if (samples.length < 5) samples.push(`socket: ${err.message}`);
      resolve();
    });
    req.end(body);
  });
}

async function client() {
  while (running) await send();
}

process.stdin.on('close', () => {
  running = false;
});
process.stdin.on('end', () => {
  running = false;
});
process.stdin.resume();

await Promise.all(Array.from({ length: concurrency }, client));
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({ ok, failed, rate_per_s: Math.round(((ok + failed) / seconds) * 10) / 10, by_version: byVersion, error_samples: samples })}\n`,
);
agent.destroy();
