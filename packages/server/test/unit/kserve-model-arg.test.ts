import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseKserveUrl, parseModelArg } from '../../src/models/model-catalog.js';

describe('--model NAME=kserve+http://HOST:PORT/MODEL or kserve+grpc://HOST:PORT/MODEL (a model on a KServe v2 server)', () => {
  test('the base URL (a path prefix kept), the model and its version', () => {
    assert.deepEqual(parseKserveUrl('kserve+http://triton:8000/yolo'), { url: 'http://triton:8000', model: 'yolo', protocol: 'http' });
    assert.deepEqual(parseKserveUrl('kserve+https://gpu.example/inference/yolo/versions/3'), {
      url: 'https://gpu.example/inference',
      model: 'yolo',
      version: '3',
      protocol: 'http',
    });
    const spec = parseModelArg('faces=kserve+http://127.0.0.1:9000/blazeface-back@blazeface');
    assert.deepEqual(spec, {
      name: 'faces',
      file: 'kserve+http://127.0.0.1:9000/blazeface-back',
      adapter: 'blazeface',
      labels: undefined,
      remote: { url: 'http://127.0.0.1:9000', model: 'blazeface-back', protocol: 'http' },
    });
  });
  test('gRPC: the target HOST:PORT (as grpc-js takes it), the model and its version', () => {
    assert.deepEqual(parseKserveUrl('kserve+grpc://triton:8001/yolo'), { url: 'triton:8001', model: 'yolo', protocol: 'grpc' });
    assert.deepEqual(parseKserveUrl('KSERVE+GRPC://[::1]:8001/my%20model/versions/2/'), {
      url: '[::1]:8001',
      model: 'my model',
      version: '2',
      protocol: 'grpc',
    });
    assert.deepEqual(parseModelArg('faces=kserve+grpc://127.0.0.1:9001/blazeface-back@blazeface'), {
      name: 'faces',
      file: 'kserve+grpc://127.0.0.1:9001/blazeface-back',
      adapter: 'blazeface',
      labels: undefined,
      remote: { url: '127.0.0.1:9001', model: 'blazeface-back', protocol: 'grpc' },
    });
  });
  test('what is not such a URL is a clear error', () => {
    assert.throws(() => parseKserveUrl('kserve+http://host'), /kserve\+http:\/\/HOST:PORT\/MODEL/);
    assert.throws(() => parseKserveUrl('kserve+ftp://host/m'), /kserve\+http:\/\/HOST:PORT\/MODEL or kserve\+grpc:\/\/HOST:PORT\/MODEL/);
    assert.throws(() => parseKserveUrl('kserve+grpc://host/m'), /needs the port/);
    assert.throws(() => parseKserveUrl('kserve+grpc://host:8001/prefix/m'), /takes no path before the model/);
  });
});
