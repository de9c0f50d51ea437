import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildInferServer } from '../../src/infer-server/infer-server-app.js';
import { KserveHttpClient } from '../../src/kserve/kserve-http-client.js';
import { BUILTIN_MODELS } from '../../src/models/model-catalog.js';
import { InferencePool } from '../../src/models/inference-pool.js';
import { assertSameAsLocalOnnx, patternInput } from '../helpers/onnx-compare.js';
import { faceResultsThroughRemoteModel } from '../helpers/remote-model-session.js';

/**
 * The KServe v2 client against `sightline infer-server` (HTTP): health, metadata, readiness, and inference with the
 * binary tensor data extension and with JSON data, the outputs equal to running the same ONNX file locally.
 */
describe('KServe v2 over HTTP: the client against sightline infer-server', { timeout: 120_000 }, () => {
  let pool: InferencePool;
  let app: FastifyInstance;
  let url: string;
  const front = BUILTIN_MODELS.find((m) => m.name === 'blazeface-front')!;
  before(async () => {
    pool = await InferencePool.create({ models: BUILTIN_MODELS, size: 1 });
    app = await buildInferServer({ pool, version: 'test' });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app?.close();
    await pool?.close();
  });

  test('health, server metadata, model metadata and readiness', async () => {
    const client = new KserveHttpClient({ baseUrl: url, model: 'blazeface-front' });
    assert.equal(await client.serverReady(), true);
    assert.equal(await client.modelReady(), true);
    const md = await client.metadata();
    assert.equal(md.name, 'blazeface-front');
    assert.deepEqual(
      md.inputs.map((i) => [i.datatype, i.shape.length]),
      [['FP32', 4]],
    );
    assert.ok(md.outputs.length >= 2);
    assert.deepEqual(await (await fetch(`${url}/v2`)).json(), { name: 'sightline', version: 'test', extensions: ['binary_tensor_data'] });
    const missing = new KserveHttpClient({ baseUrl: url, model: 'nope' });
    assert.equal(await missing.modelReady(), false);
    await assert.rejects(missing.metadata(), /404.*not served here/);
  });

  test('binary and JSON inference give what the same ONNX file gives locally', async () => {
    const client = new KserveHttpClient({ baseUrl: url, model: 'blazeface-front' });
    const md = await client.metadata();
    const shape = md.inputs[0]!.shape.map((d) => (d < 0 ? 1 : d));
    const input = patternInput(shape);
    const res = await client.infer({ inputs: [{ name: md.inputs[0]!.name, datatype: 'FP32', shape, values: input }] });
    await assertSameAsLocalOnnx(front.file, md.inputs[0]!.name, input, shape, res);
    // The same request as plain JSON, outputs asked as JSON.
    const json = await fetch(`${url}/v2/models/blazeface-front/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'j', inputs: [{ name: md.inputs[0]!.name, datatype: 'FP32', shape, data: Array.from(input) }] }),
    });
    assert.equal(json.status, 200);
    const body = (await json.json()) as { id: string; model_name: string; outputs: Array<{ name: string; data: number[] }> };
    assert.equal(body.id, 'j');
    assert.equal(body.model_name, 'blazeface-front');
    const first = body.outputs[0]!;
    const binFirst = res.outputs.find((o) => o.name === first.name)!.values as Float32Array;
    assert.deepEqual(first.data.slice(0, 10), Array.from(binFirst.slice(0, 10)));
  });

  test('malformed requests are 400 with the protocol error shape; an unknown model 404', async () => {
    const post = (model: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${url}/v2/models/${model}/infer`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    for (const [model, body, status, re] of [
      ['blazeface-front', '{', 400, /not a JSON object/],
      ['blazeface-front', '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}', 400, /no input "x"/],
      ['blazeface-front', '{"inputs":[{"name":"input","shape":[2],"datatype":"FP32","data":[1]}]}', 400, /./],
      ['nope', '{"inputs":[]}', 404, /not served here/],
    ] as const) {
      const r = await post(model, body);
      assert.equal(r.status, status, body);
      const e = (await r.json()) as { error: string };
      assert.match(e.error, re);
    }
  });

  test('a media server with --model faces=kserve+http://…: its sessions get face boxes computed by the infer-server', async () => {
    const { results, onFace } = await faceResultsThroughRemoteModel(`kserve+http://${new URL(url).host}/blazeface-back`);
    assert.ok(results >= 10, `${results} results`);
    assert.ok(onFace / results >= 0.9, `${onFace}/${results} results box the face`);
  });
});
