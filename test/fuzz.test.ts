/**
 * The CI fuzz run: 20 000 hostile requests (malformed and lying V2 JSON, binary-extension bodies,
 * random methods and URLs over every route, raw-socket framing attacks, gRPC messages damaged at
 * the field and at the wire level) against `tend serve` on loopback, 16 keep-alive clients.
 * Not one may get a 500, a 5xx without a queue/readiness code, a non-JSON error, or a reset we did
 * not provoke; afterwards the server is ready and answers the reference request as before.
 * The seed is fixed (FUZZ_SEED overrides it); the long run is test/fuzz/main.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { formatSummary, runCampaign } from './fuzz/campaign.js';
import { startFuzzSession, type FuzzSession } from './fuzz/fuzz-session.js';
import { FuzzRandom } from './fuzz/fuzz-random.js';
import {
  GRPC_FIELDS,
  HTTP_FIELDS,
  STICKY_ENDPOINT,
  STICKY_HEADER,
  stickyGrpcCase,
  stickyHttpCase,
} from './fuzz/long-string-cases.js';
import { GrpcSender, HttpSender } from './fuzz/transports.js';
import { bytesField, packedFloats, packedVarints } from './fuzz/protobuf-writer.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_126);
const REQUESTS = 20_000;

let session: FuzzSession;
before(async () => {
  session = await startFuzzSession();
});
after(async () => {
  await session?.close();
});

test('a gRPC stream with a message protobuf cannot decode still ends (found by the fuzzer)', async () => {
  // A valid request, two refused ones, then bytes that are not a ModelInferRequest: grpc-js 1.14
  // refuses the last message itself and, with the stream's answers under way, the call never ends
  // unless the service handles undecodable messages (seed 20261126, case 3962, boiled down).
  const pixels = Buffer.concat([bytesField(1, 'pixels'), bytesField(2, 'FP32'), packedVarints(3, [1, 64])]);
  const valid = Buffer.concat([
    bytesField(1, 'digits'),
    bytesField(5, Buffer.concat([pixels, bytesField(5, packedFloats(6, new Array<number>(64).fill(0.5)))])),
  ]);
  const refused = Buffer.concat([
    bytesField(1, 'digits'),
    bytesField(5, pixels),
    bytesField(7, Buffer.alloc(3)),
  ]);
  const undecodable = Buffer.from([0x0b]); // a group start tag
  const pass = (b: Buffer): Buffer => b;
  const client = new grpc.Client(session.target.grpcAddress, grpc.credentials.createInsecure());
  try {
    const call = client.makeBidiStreamRequest(
      '/inference.GRPCInferenceService/ModelStreamInfer',
      pass,
      pass,
      new grpc.Metadata(),
      { deadline: Date.now() + 5000 },
    );
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    for (const message of [valid, refused, refused, undecodable]) call.write(message);
    call.end();
    const ended = await status;
    assert.notEqual(ended.code, grpc.status.DEADLINE_EXCEEDED, `the stream never ended: ${ended.details}`);
  } finally {
    client.close();
  }
});

test('a string over its limit in any field is a 4xx with {"error","code"}, and the server stays healthy', async () => {
  // The sticky cases need an experiment that routes by the header.
  const put = await fetch(`${session.target.url}/api/v1/deployments/${STICKY_ENDPOINT}`, {
    method: 'PUT',
    body: JSON.stringify({
      champion: 1,
      experiment: {
        variants: [
          { version: 1, weight: 1 },
          { version: 2, weight: 1 },
        ],
        sticky_by: STICKY_HEADER,
      },
    }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(put.status, 200, await put.text());
  const http = new HttpSender(session.target.url, 4);
  const grpcSender = new GrpcSender(session.target.grpcAddress);
  const problems: string[] = [];
  const builders = [
    ...Object.values(HTTP_FIELDS),
    ...Object.values(GRPC_FIELDS),
    stickyHttpCase,
    stickyGrpcCase,
  ];
  let sent = 0;
  try {
    // Each field with a few draws of the string: just over the limit in ASCII, in 3-byte characters, far over it.
    for (let round = 0; round < 6; round++) {
      for (const [index, build] of builders.entries()) {
        const c = build(FuzzRandom.forCase(SEED, round * 100 + index));
        const judged = c.transport === 'http' ? await http.send(c) : await grpcSender.send(c);
        sent++;
        if (judged.verdict.cls !== 'rejected')
          problems.push(
            `${c.category}: ${judged.verdict.cls} ${judged.verdict.reason ?? ''} — ${judged.answer.slice(0, 200)}`,
          );
      }
    }
  } finally {
    http.close();
    grpcSender.close();
  }
  assert.equal(sent, builders.length * 6);
  assert.deepEqual(problems, []);
  assert.deepEqual(await session.checkAfter(), [], 'after the oversized strings');
});

test(
  `${REQUESTS} hostile requests (seed ${SEED}): nothing unexpected, and the server is ready afterwards`,
  { timeout: 600_000 },
  async () => {
    const summary = await runCampaign(session.target, { seed: SEED, requests: REQUESTS, concurrency: 16 });
    console.log(formatSummary(summary, 10));
    const problems = await session.checkAfter();
    assert.equal(summary.serverDied, false, 'the server process died');
    assert.equal(summary.requests, REQUESTS);
    assert.equal(
      summary.unexpectedCount,
      0,
      `unexpected answers (replay one with: node --import tsx test/fuzz/main.ts --seed ${SEED} --only INDEX):\n${formatSummary(summary, 10)}`,
    );
    assert.deepEqual(problems, [], 'after the run');
    // The mix reached every transport and drew both answers and refusals (the generators work).
    for (const transport of ['http', 'raw', 'grpc'])
      assert.ok((summary.byTransport[transport] ?? 0) > 0, transport);
    assert.ok(
      Object.keys(summary.byCategory).some((k) => k.startsWith('long-string/')),
      'strings over their limits were sent',
    );
    assert.ok(summary.byClass.ok > 0 && summary.byClass.rejected > 0, JSON.stringify(summary.byClass));
    assert.ok(
      (summary.codes['TEND_PAYLOAD_TOO_LARGE'] ?? 0) + summary.byClass['too-large'] > 0,
      'some bodies over the limit were refused',
    );
  },
);
