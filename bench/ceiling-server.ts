/**
 * The HTTP ceiling of the benchmarks: a bare Fastify 5 server that parses a KServe V2 JSON request
 * and answers a constant response shaped like the digits model's. No model, no batching, no logs:
 * whatever tend serves over JSON on this machine cannot beat it.
 *
 * Run as a child process: `node ceiling-server.js PORT`.
 */
import Fastify from 'fastify';

const RESPONSE = {
  model_name: 'digits',
  model_version: '1',
  outputs: [
    {
      name: 'probabilities',
      datatype: 'FP32',
      shape: [1, 10],
      data: [0.0012, 0.0031, 0.9702, 0.0043, 0.0008, 0.0051, 0.0009, 0.0062, 0.0054, 0.0028],
    },
    { name: 'label', datatype: 'INT64', shape: [1], data: [2] },
  ],
};

const port = Number(process.argv[2] ?? '0');
const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });

app.get('/v2/health/ready', async () => ({ ready: true }));
app.post('/v2/models/:model/infer', async (request, reply) => {
  const body = request.body as { inputs?: unknown } | null;
  if (body === null || typeof body !== 'object' || !Array.isArray(body.inputs)) {
    return reply.code(400).send({ error: 'request has no inputs', code: 'TEND_INVALID_INPUT' });
  }
  return RESPONSE;
});

await app.listen({ host: '127.0.0.1', port });
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
