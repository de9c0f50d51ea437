import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { credentials, loadPackageDefinition, status, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { startInferGrpcServer, type InferGrpcServer } from '../../src/infer-server/infer-grpc-server.js';
import { PROTO_FILE } from '../../src/kserve/grpc-proto.js';
import type { InferRequest } from '../../src/kserve/infer-messages.js';
import { KserveError } from '../../src/kserve/kserve-client.js';
import { KserveGrpcClient } from '../../src/kserve/kserve-grpc-client.js';
import { InferencePool } from '../../src/models/inference-pool.js';
import { BUILTIN_MODELS } from '../../src/models/model-catalog.js';
import { assertSameAsLocalOnnx, patternInput } from '../helpers/onnx-compare.js';
import { faceResultsThroughRemoteModel } from '../helpers/remote-model-session.js';

/**
 * The KServe v2 gRPC client against `sightline infer-server --grpc-port`: health, metadata, readiness, and inference
 * as raw contents, the outputs equal to running the same ONNX file locally; errors as gRPC statuses; a call a
 * third-party client would make, built by hand from the vendored proto; and a media node whose model is served over
 * gRPC. The HTTP twin is kserve-conformance.test.ts.
 */
describe('KServe v2 over gRPC: the client against sightline infer-server', { timeout: 120_000 }, () => {
  let pool: InferencePool;
  let server: InferGrpcServer;
  let target: string;
  const clients: KserveGrpcClient[] = [];
  const client = (model: string, version?: string) => {
    const c = new KserveGrpcClient({ target, model, version });
    clients.push(c);
    return c;
  };
  const front = BUILTIN_MODELS.find((m) => m.name === 'blazeface-front')!;
  const refused = (code: status, re: RegExp) => (e: unknown) => e instanceof KserveError && e.kind === 'refused' && e.grpcCode === code && re.test(e.message);

  before(async () => {
    pool = await InferencePool.create({ models: BUILTIN_MODELS, size: 1 });
    server = await startInferGrpcServer({ pool, version: 'test', host: '127.0.0.1', port: 0 });
    target = `127.0.0.1:${server.port}`;
  });
  after(async () => {
    for (const c of clients) c.close();
    await server?.close();
    await pool?.close();
  });

  test('health, model metadata and readiness; an unknown model or version is NOT_FOUND', async () => {
    const c = client('blazeface-front');
    assert.equal(await c.serverReady(), true);
    assert.equal(await c.modelReady(), true);
    const md = await c.metadata();
    assert.equal(md.name, 'blazeface-front');
    assert.deepEqual(md.versions, ['1']);
    assert.equal(md.platform, 'onnxruntime_onnx');
    assert.deepEqual(md.inputs, [{ name: 'input:0', datatype: 'FP32', shape: [1, 128, 128, 3] }]);
    assert.ok(md.outputs.length >= 2);
    assert.deepEqual(await client('blazeface-front', '1').metadata(), md);
    const missing = client('nope');
    assert.equal(await missing.modelReady(), false);
    await assert.rejects(missing.metadata(), refused(status.NOT_FOUND, /answered NOT_FOUND: model "nope" is not served here/));
    const v2 = client('blazeface-front', '2');
    assert.equal(await v2.modelReady(), false);
    await assert.rejects(v2.metadata(), refused(status.NOT_FOUND, /has only version 1/));
  });

  test('raw-contents inference gives what the same ONNX file gives locally', async () => {
    const c = client('blazeface-front');
    const md = await c.metadata();
    const shape = md.inputs[0]!.shape.map((d) => (d < 0 ? 1 : d));
    const input = patternInput(shape);
    const res = await c.infer({ id: 'g', inputs: [{ name: md.inputs[0]!.name, datatype: 'FP32', shape, values: input }] });
    assert.deepEqual([res.model_name, res.model_version, res.id], ['blazeface-front', '1', 'g']);
    assert.deepEqual(res.outputs.map((o) => o.name).sort(), md.outputs.map((o) => o.name).sort());
    await assertSameAsLocalOnnx(front.file, md.inputs[0]!.name, input, shape, res);
    // Only the outputs asked for.
    const one = await c.infer({
      inputs: [{ name: 'input:0', datatype: 'FP32', shape, values: input }],
      outputs: [{ name: md.outputs[1]!.name, binary: true }],
    });
    assert.deepEqual(
      one.outputs.map((o) => o.name),
      [md.outputs[1]!.name],
    );
  });

  test('requests that do not fit the model are INVALID_ARGUMENT; an unknown model NOT_FOUND (KserveError refused)', async () => {
    const c = client('blazeface-front');
    const fp32 = (name: string, shape: number[]) => ({ name, datatype: 'FP32' as const, shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    for (const [req, re] of [
      [{ inputs: [fp32('x', [1])] }, /answered INVALID_ARGUMENT: model "blazeface-front" has no input "x" \(inputs: input:0\)/],
      [{ inputs: [fp32('input:0', [1, 64, 64, 3])] }, /input "input:0" has shape \[1,128,128,3\] \(-1: any\); got \[1,64,64,3\]/],
      [
        { inputs: [{ name: 'input:0', datatype: 'INT32', shape: [1, 128, 128, 3], values: new Int32Array(128 * 128 * 3) }] },
        /input "input:0" is FP32; got INT32/,
      ],
      [{ inputs: [fp32('input:0', [1, 128, 128, 3])], outputs: [{ name: 'nope', binary: true }] }, /has no output "nope"/],
    ] as Array<[InferRequest, RegExp]>) {
      await assert.rejects(c.infer(req), refused(status.INVALID_ARGUMENT, re), String(re));
    }
    await assert.rejects(client('nope').infer({ inputs: [fp32('x', [1])] }), refused(status.NOT_FOUND, /model "nope" is not served here/));
    assert.equal(c.breaker.state, 'closed', 'answers, even errors, are a live server');
  });

  describe('a third-party client: grpc-js and the proto alone, messages built by hand', () => {
    // As any gRPC client of the protocol does it: a stub generated from the .proto, no Sightline code.
    type Callback = (err: ServiceError | null, res: any) => void;
    let stub: Record<string, (req: object, cb: Callback) => void> & { close(): void };
    const call = (method: string, req: object): Promise<any> =>
      new Promise((resolve, reject) => stub[method]!(req, (err, res) => (err ? reject(err) : resolve(res))));
    const code = (c: status, re: RegExp) => (e: unknown) => (e as ServiceError).code === c && re.test((e as ServiceError).details);
    before(() => {
      const pkg = loadPackageDefinition(loadSync(PROTO_FILE, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })) as any;
      stub = new pkg.inference.GRPCInferenceService(target, credentials.createInsecure());
    });
    after(() => stub?.close());

    test('ServerLive, ServerReady, ServerMetadata, ModelReady', async () => {
      assert.deepEqual(await call('ServerLive', {}), { live: true });
      assert.deepEqual(await call('ServerReady', {}), { ready: true });
      assert.deepEqual(await call('ServerMetadata', {}), { name: 'sightline', version: 'test', extensions: [] });
      assert.deepEqual(await call('ModelReady', { name: 'blazeface-back', version: '' }), { ready: true });
      await assert.rejects(call('ModelReady', { name: 'nope' }), code(status.NOT_FOUND, /not served here/));
    });

    test('ModelInfer with typed contents (fp32_contents) and with raw_input_contents: the same raw outputs', async () => {
      const values = Array.from({ length: 128 * 128 * 3 }, (_, i) => Math.fround(Math.cos(i) * 0.5));
      const typed = await call('ModelInfer', {
        model_name: 'blazeface-front',
        model_version: '1',
        id: '42',
        inputs: [{ name: 'input:0', datatype: 'FP32', shape: [1, 128, 128, 3], contents: { fp32_contents: values } }],
        outputs: [{ name: 'Identity:0' }, { name: 'Identity_2:0' }],
      });
      assert.equal(typed.id, '42');
      assert.equal(typed.model_name, 'blazeface-front');
      assert.equal(typed.model_version, '1');
      assert.deepEqual(
        typed.outputs.map((o: any) => [o.name, o.datatype, o.shape]),
        [
          ['Identity:0', 'FP32', ['1', '512', '1']],
          ['Identity_2:0', 'FP32', ['1', '512', '16']],
        ],
      );
      assert.equal(typed.raw_output_contents.length, 2, 'outputs come as raw contents, one per output in order');
      assert.deepEqual(
        typed.raw_output_contents.map((b: Buffer) => b.byteLength),
        [512 * 4, 512 * 16 * 4],
      );
      const raw = await call('ModelInfer', {
        model_name: 'blazeface-front',
        inputs: [{ name: 'input:0', datatype: 'FP32', shape: [1, 128, 128, 3] }],
        raw_input_contents: [Buffer.from(new Float32Array(values).buffer)],
      });
      assert.equal(raw.id, '');
      assert.equal(raw.outputs.length, 4, 'every output when none is asked');
      const byName = new Map(raw.outputs.map((o: any, i: number) => [o.name, raw.raw_output_contents[i] as Buffer]));
      assert.deepEqual(byName.get('Identity:0'), typed.raw_output_contents[0]);
    });

    test('malformed requests: INVALID_ARGUMENT with the reason; unknown model or version NOT_FOUND', async () => {
      const input = { name: 'input:0', datatype: 'FP32', shape: [1, 128, 128, 3] };
      for (const [req, c, re] of [
        [{ model_name: 'blazeface-front', inputs: [input], raw_input_contents: [Buffer.alloc(7)] }, status.INVALID_ARGUMENT, /is 196608 bytes; got 7/],
        [
          { model_name: 'blazeface-front', inputs: [input, { ...input, name: 'b' }], raw_input_contents: [Buffer.alloc(8)] },
          status.INVALID_ARGUMENT,
          /1 entries for 2 inputs/,
        ],
        [{ model_name: 'blazeface-front', inputs: [input] }, status.INVALID_ARGUMENT, /contents\.fp32_contents has 0/],
        [{ model_name: 'blazeface-front', inputs: [] }, status.INVALID_ARGUMENT, /at least one input/],
        [
          { model_name: 'blazeface-front', inputs: [{ ...input, datatype: 'FLOAT' }], raw_input_contents: [Buffer.alloc(4)] },
          status.INVALID_ARGUMENT,
          /not a protocol datatype/,
        ],
        [{ model_name: 'nope', inputs: [input] }, status.NOT_FOUND, /model "nope" is not served here/],
        [{ model_name: 'blazeface-front', model_version: '7', inputs: [input] }, status.NOT_FOUND, /has only version 1/],
      ] as const) {
        await assert.rejects(call('ModelInfer', req), code(c, re), String(re));
      }
      await assert.rejects(call('ModelMetadata', { name: 'nope' }), code(status.NOT_FOUND, /not served here/));
    });
  });

  test('a media server with --model faces=kserve+grpc://…: its sessions get face boxes computed by the infer-server', async () => {
    const { results, onFace } = await faceResultsThroughRemoteModel(`kserve+grpc://${target}/blazeface-back`);
    assert.ok(results >= 10, `${results} results`);
    assert.ok(onFace / results >= 0.9, `${onFace}/${results} results box the face`);
  });
});
