import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseKserveUrl, parseModelArg } from '../../src/models/model-catalog.js';

describe('--model NAME=kserve+http://HOST:PORT/MODEL (a model on a KServe v2 server)', () => {
  test('the base URL (a path prefix kept), the model and its version', () => {
    assert.deepEqual(parseKserveUrl('kserve+http://triton:8000/yolo'), { url: 'http://triton:8000', model: 'yolo' });
    assert.deepEqual(parseKserveUrl('kserve+https://gpu.example/inference/yolo/versions/3'), {
      url: 'https://gpu.example/inference',
      model: 'yolo',
      version: '3',
    });
    const spec = parseModelArg('faces=kserve+http://127.0.0.1:9000/blazeface-back@blazeface');
    assert.deepEqual(spec, {
      name: 'faces',
      file: 'kserve+http://127.0.0.1:9000/blazeface-back',
      adapter: 'blazeface',
      labels: undefined,
      remote: { url: 'http://127.0.0.1:9000', model: 'blazeface-back' },
    });
  });
  test('what is not such a URL is a clear error; gRPC is refused for now', () => {
    assert.throws(() => parseKserveUrl('kserve+http://host'), /kserve\+http:\/\/HOST:PORT\/MODEL/);
    assert.throws(() => parseKserveUrl('kserve+ftp://host/m'), /kserve\+http:\/\/HOST:PORT\/MODEL/);
    assert.throws(() => parseKserveUrl('kserve+grpc://host:8001/m'), /not supported yet/);
  });
});
