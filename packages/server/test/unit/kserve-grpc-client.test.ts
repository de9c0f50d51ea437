import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type UntypedHandleCall } from '@grpc/grpc-js';
import { CircuitBreaker } from '../../src/kserve/circuit-breaker.js';
import { encodeGrpcInferResponse, type GrpcInferRequest, type GrpcInferResponse } from '../../src/kserve/grpc-messages.js';
import { inferenceService, type InferenceMethod } from '../../src/kserve/grpc-proto.js';
import { KserveError } from '../../src/kserve/kserve-client.js';
import { KserveGrpcClient } from '../../src/kserve/kserve-grpc-client.js';
import { freePort } from '../helpers/ports.js';

type Handler = (call: ServerUnaryCall<GrpcInferRequest, GrpcInferResponse>, callback: sendUnaryData<GrpcInferResponse>) => void;

/** A stand-in server: `handlers` for the methods a test needs (the others are UNIMPLEMENTED), and a count of calls. */
async function stubServer(handlers: Partial<Record<InferenceMethod, Handler>>, port = 0): Promise<{ port: number; calls: number; close(): void }> {
  const server = new Server();
  const state = { port: 0, calls: 0, close: () => server.forceShutdown() };
  const counted = Object.fromEntries(
    Object.entries(handlers).map(([k, h]) => [
      k,
      ((call, cb) => {
        state.calls++;
        h(call, cb);
      }) as Handler,
    ]),
  ) as Record<string, UntypedHandleCall>;
  server.addService(inferenceService(), counted);
  state.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return state;
}

const ok = (): GrpcInferResponse =>
  encodeGrpcInferResponse({ model_name: 'm', model_version: '1', outputs: [{ name: 'y', datatype: 'FP32', shape: [1], values: new Float32Array([7]) }] });
const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1], values: new Float32Array([1]) }] };
const isKserve = (kind: KserveError['kind'], code: number | undefined, re: RegExp) => (e: unknown) =>
  e instanceof KserveError && e.kind === kind && e.grpcCode === code && re.test(e.message);

/**
 * KserveGrpcClient's failure behaviour, the same as the HTTP client's: UNAVAILABLE retried with backoff, other error
 * answers refused at once, a passed deadline not retried, and the circuit breaker failing calls fast while the server
 * is down, then finding it again once it is back.
 */
describe('KserveGrpcClient: retries, deadlines and the circuit breaker', { timeout: 30_000 }, () => {
  const clients: KserveGrpcClient[] = [];
  const client = (target: string, opts: Partial<ConstructorParameters<typeof KserveGrpcClient>[0]> = {}) => {
    const c = new KserveGrpcClient({ target, model: 'm', ...opts });
    clients.push(c);
    return c;
  };
  after(() => {
    for (const c of clients) c.close();
  });

  test('server down: each call is UNAVAILABLE after its retry; the breaker opens after 3 and calls fail fast', async () => {
    const port = await freePort();
    const c = client(`127.0.0.1:${port}`, { breaker: new CircuitBreaker({ failures: 3, openMs: 60_000 }) });
    for (let i = 0; i < 3; i++) {
      await assert.rejects(c.infer(request), isKserve('unavailable', status.UNAVAILABLE, /unavailable/));
    }
    assert.equal(c.breaker.state, 'open');
    const t0 = performance.now();
    await assert.rejects(c.infer(request), isKserve('unavailable', undefined, /is down \(circuit open; next try in \d+ ms\)/));
    await assert.rejects(c.serverReady(), isKserve('unavailable', undefined, /circuit open/));
    assert.ok(performance.now() - t0 < 50, `failed fast (${(performance.now() - t0).toFixed(1)} ms)`);
  });

  test('the half-open probe finds a server that came back on the same port', async () => {
    const port = await freePort();
    const c = client(`127.0.0.1:${port}`, { breaker: new CircuitBreaker({ failures: 1, openMs: 300 }), retries: 0 });
    await assert.rejects(c.serverReady(), isKserve('unavailable', status.UNAVAILABLE, /unavailable/));
    assert.equal(c.breaker.state, 'open');
    const server = await stubServer({ ServerReady: (_call, cb) => cb(null, { ready: true } as never) }, port);
    try {
      // grpc-js backs off between reconnections; the client keeps that under a second, near the breaker's probes.
      const deadline = Date.now() + 5000;
      let ready = false;
      while (!ready && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        ready = await c.serverReady().catch(() => false);
      }
      assert.equal(ready, true);
      assert.equal(c.breaker.state, 'closed');
    } finally {
      server.close();
    }
  });

  test('an UNAVAILABLE answer is retried with backoff; the retry answers the call', async () => {
    let n = 0;
    const server = await stubServer({
      ModelInfer: (_call, cb) => (n++ === 0 ? cb({ code: status.UNAVAILABLE, details: 'pool saturated' }) : cb(null, ok())),
    });
    try {
      const c = client(`127.0.0.1:${server.port}`, { backoffMs: 30 });
      const t0 = performance.now();
      const res = await c.infer(request);
      assert.ok(performance.now() - t0 >= 25, 'waited the backoff');
      assert.deepEqual(Array.from(res.outputs[0]!.values as Float32Array), [7]);
      assert.equal(server.calls, 2);
      assert.equal(c.breaker.state, 'closed');
    } finally {
      server.close();
    }
  });

  test('other error answers are refused at once, not retried, and keep the breaker closed; NOT_FOUND is "not ready"', async () => {
    const server = await stubServer({
      ModelInfer: (_call, cb) => cb({ code: status.INVALID_ARGUMENT, details: 'model "m" input "x" is FP32; got INT64' }),
      ModelMetadata: (_call, cb) => cb({ code: status.NOT_FOUND, details: 'model "m" is not served here' }),
      ModelReady: (_call, cb) => cb({ code: status.NOT_FOUND, details: 'model "m" is not served here' }),
    });
    try {
      const c = client(`127.0.0.1:${server.port}`, { breaker: new CircuitBreaker({ failures: 1 }) });
      await assert.rejects(c.infer(request), isKserve('refused', status.INVALID_ARGUMENT, /answered INVALID_ARGUMENT: model "m" input "x" is FP32/));
      await assert.rejects(c.metadata(), isKserve('refused', status.NOT_FOUND, /answered NOT_FOUND: model "m" is not served here/));
      assert.equal(await c.modelReady(), false);
      assert.equal(server.calls, 3, 'one call each');
      assert.equal(c.breaker.state, 'closed');
      // A method the server does not have: refused too (UNIMPLEMENTED), and "not ready" for a readiness call.
      assert.equal(await c.serverReady(), false);
    } finally {
      server.close();
    }
  });

  test('a passed deadline is unavailable and not retried', async () => {
    const server = await stubServer({ ModelInfer: () => {} });
    try {
      const c = client(`127.0.0.1:${server.port}`, { timeoutMs: 200, breaker: new CircuitBreaker({ failures: 1 }) });
      const t0 = performance.now();
      await assert.rejects(c.infer(request), isKserve('unavailable', status.DEADLINE_EXCEEDED, /no answer within 200 ms/));
      assert.ok(performance.now() - t0 < 1000);
      assert.equal(server.calls, 1);
      assert.equal(c.breaker.state, 'open', 'a server that does not answer counts as down');
    } finally {
      server.close();
    }
  });

  test('a closed client fails its calls as unavailable', async () => {
    const c = client('127.0.0.1:1');
    c.close();
    await assert.rejects(c.infer(request), isKserve('unavailable', undefined, /./));
  });
});
