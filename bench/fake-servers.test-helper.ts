/**
 * Small stand-ins for tend's frontends, for the bench's own tests: a gRPC server with the real
 * service definition whose ModelInfer answers fixed outputs, and an HTTP server that answers V2
 * JSON or binary-extension requests the same way. No model, no engine: the tests check the bench's
 * clients and comparisons, not the server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { inferenceServiceDefinition } from '../src/server/grpc/definition.js';

export interface FakeOutput {
  name: string;
  datatype: 'FP32';
  shape: number[];
  data: Float32Array;
}

export interface FakeGrpcServer {
  address: string;
  /** ModelInfer calls answered so far (failed ones included). */
  calls(): number;
  close(): Promise<void>;
}

const bytesOf = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** A gRPC server whose ModelInfer answers `outputs`, or INVALID_ARGUMENT for model 'bad'. */
export async function startFakeGrpcServer(outputs: readonly FakeOutput[]): Promise<FakeGrpcServer> {
  const server = new grpc.Server();
  let calls = 0;
  server.addService(inferenceServiceDefinition(), {
    ModelInfer: (
      call: grpc.ServerUnaryCall<{ model_name: string }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      calls += 1;
      if (call.request.model_name === 'bad') {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'no such model' });
        return;
      }
      callback(null, {
        model_name: call.request.model_name,
        model_version: '1',
        outputs: outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape })),
        raw_output_contents: outputs.map((o) => bytesOf(o.data)),
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    calls: () => calls,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** An HTTP server answering every POST with `outputs`, as JSON or (when the request uses the extension) binary. */
export async function startFakeHttpServer(
  outputs: readonly FakeOutput[],
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const head = (o: FakeOutput) => ({ name: o.name, datatype: o.datatype, shape: o.shape });
      if (req.headers['inference-header-content-length'] === undefined) {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            model_name: 'm',
            outputs: outputs.map((o) => ({ ...head(o), data: Array.from(o.data) })),
          }),
        );
        return;
      }
      const json = Buffer.from(
        JSON.stringify({
          model_name: 'm',
          outputs: outputs.map((o) => ({ ...head(o), parameters: { binary_data_size: o.data.byteLength } })),
        }),
      );
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('inference-header-content-length', String(json.length));
      res.end(Buffer.concat([json, ...outputs.map((o) => bytesOf(o.data))]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v2/models/m/infer`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
