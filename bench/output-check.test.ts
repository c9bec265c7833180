import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../src/core/tensor.js';
import { startFakeGrpcServer, startFakeHttpServer, type FakeOutput } from './fake-servers.test-helper.js';
import { checkProtocolOutputs, differingOutputs, jsonOutputBytes } from './output-check.js';

// FP32 values that are no short decimals (0.1, a tiny one, 2^24 + 1 rounded): JSON must carry them exactly.
const LOGITS: FakeOutput = {
  name: 'logits',
  datatype: 'FP32',
  shape: [1, 3],
  data: Float32Array.of(0.1, -2.5e-8, 16777217),
};
const input: Tensor = { name: 'x', datatype: 'FP32', shape: [1, 1], data: Float32Array.of(1) };
const rawOrt: Tensor[] = [{ name: 'logits', datatype: 'FP32', shape: [1, 3], data: LOGITS.data }];

let http: Awaited<ReturnType<typeof startFakeHttpServer>>;
let grpcSame: Awaited<ReturnType<typeof startFakeGrpcServer>>;
let grpcOther: Awaited<ReturnType<typeof startFakeGrpcServer>>;

before(async () => {
  http = await startFakeHttpServer([LOGITS]);
  grpcSame = await startFakeGrpcServer([LOGITS]);
  const off = Float32Array.from(LOGITS.data);
  off[1] = (off[1] as number) + 1e-12; // a change far below what a printed float would show
  grpcOther = await startFakeGrpcServer([{ ...LOGITS, data: off }]);
});

after(async () => {
  await http.close();
  await grpcSame.close();
  await grpcOther.close();
});

test('jsonOutputBytes re-encodes JSON numbers as the declared type', () => {
  const fp = jsonOutputBytes({
    name: 'a',
    datatype: 'FP32',
    shape: [2],
    data: Array.from(Float32Array.of(0.1, 3)),
  });
  assert.deepEqual(fp, Buffer.from(Float32Array.of(0.1, 3).buffer));
  const ints = jsonOutputBytes({ name: 'b', datatype: 'INT64', shape: [2], data: [-1, 9007199254740991] });
  assert.deepEqual(ints, Buffer.from(BigInt64Array.of(-1n, 9007199254740991n).buffer));
  assert.throws(
    () => jsonOutputBytes({ name: 'c', datatype: 'BYTES', shape: [1], data: ['x'] }),
    /not compared/,
  );
  assert.throws(() => jsonOutputBytes({ name: 'd', datatype: 'FP32', shape: [1] }), /has no data/);
});

test('differingOutputs names outputs that are missing or differ', () => {
  const a = new Map([
    ['p', Buffer.of(1, 2)],
    ['q', Buffer.of(3)],
  ]);
  assert.deepEqual(differingOutputs(a, new Map(a)), []);
  assert.deepEqual(
    differingOutputs(
      a,
      new Map([
        ['p', Buffer.of(1, 2)],
        ['r', Buffer.of(3)],
      ]),
    ),
    ['q', 'r'],
  );
  assert.deepEqual(
    differingOutputs(
      a,
      new Map([
        ['p', Buffer.of(1, 9)],
        ['q', Buffer.of(3)],
      ]),
    ),
    ['p'],
  );
});

test('checkProtocolOutputs finds JSON, binary and gRPC bit-identical and equal to onnxruntime', async () => {
  const check = await checkProtocolOutputs(
    { model: 'm', httpInferUrl: http.url, grpcAddress: grpcSame.address, rawOrt },
    [input],
  );
  assert.deepEqual(check, {
    model: 'm',
    outputs: ['logits FP32 [1,3]'],
    protocolsIdentical: true,
    matchesRawOrt: true,
    differences: [],
  });
});

test('checkProtocolOutputs reports a protocol whose bytes differ', async () => {
  const check = await checkProtocolOutputs(
    { model: 'm', httpInferUrl: http.url, grpcAddress: grpcOther.address, rawOrt },
    [input],
  );
  assert.equal(check.protocolsIdentical, false);
  assert.equal(check.matchesRawOrt, true);
  assert.deepEqual(check.differences, ["gRPC vs JSON: output 'logits'"]);
});

test('checkProtocolOutputs fails on an error answer', async () => {
  await assert.rejects(
    checkProtocolOutputs({ model: 'bad', httpInferUrl: http.url, grpcAddress: grpcSame.address, rawOrt }, [
      input,
    ]),
    /no such model/,
  );
});
