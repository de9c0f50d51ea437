import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeInferBody, encodeInferBody, takeBinaryTensors } from '../../src/kserve/infer-body.js';
import { decodeInferRequest, decodeInferResponse, encodeInferRequest, encodeInferResponse, type Tensor } from '../../src/kserve/infer-messages.js';
import { TensorDataError, valuesFromBinary, valuesToBinary } from '../../src/kserve/tensor-data.js';

const enc = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
};

/**
 * The bodies of the protocol's own examples, written out as the documents show them (the Open Inference Protocol's
 * required API, and Triton's binary tensor data extension). Two corrections, both because the examples as printed
 * are not valid: a comma after `"id" : "42"` in the JSON response, and input1's data completed to its shape [3].
 */
const SPEC_JSON_REQUEST = `{
  "id" : "42",
  "inputs" : [
    { "name" : "input0", "shape" : [ 2, 2 ], "datatype" : "UINT32", "data" : [ 1, 2, 3, 4 ] },
    { "name" : "input1", "shape" : [ 3 ], "datatype" : "BOOL", "data" : [ true, false, true ] }
  ],
  "outputs" : [ { "name" : "output0" } ]
}`;
const SPEC_JSON_RESPONSE = `{
  "id" : "42",
  "outputs" : [
    { "name" : "output0", "shape" : [ 3, 2 ], "datatype"  : "FP32", "data" : [ 1.0, 1.1, 2.0, 2.1, 3.0, 3.1 ] }
  ]
}`;
const SPEC_BINARY_REQUEST_HEAD = `{
  "model_name" : "mymodel",
  "inputs" : [
    { "name" : "input0", "shape" : [ 2, 2 ], "datatype" : "UINT32", "parameters" : { "binary_data_size" : 16 } },
    { "name" : "input1", "shape" : [ 3 ], "datatype" : "BOOL", "parameters" : { "binary_data_size" : 3 } }
  ],
  "outputs" : [ { "name" : "output0", "parameters" : { "binary_data" : true } } ]
}`;
const SPEC_BINARY_RESPONSE_HEAD = `{
  "outputs" : [
    { "name" : "output0", "shape" : [ 3, 2 ], "datatype"  : "FP32", "parameters" : { "binary_data_size" : 24 } }
  ]
}`;

describe('KServe v2 bodies against the protocol examples', () => {
  test('the JSON request and response examples', () => {
    const req = decodeInferRequest(enc(SPEC_JSON_REQUEST), undefined);
    assert.equal(req.id, '42');
    assert.deepEqual(
      req.inputs.map((t) => [t.name, t.datatype, t.shape, Array.from(t.values as Uint32Array)]),
      [
        ['input0', 'UINT32', [2, 2], [1, 2, 3, 4]],
        ['input1', 'BOOL', [3], [1, 0, 1]],
      ],
    );
    assert.deepEqual(req.outputs, [{ name: 'output0', binary: false }]);
    const res = decodeInferResponse(enc(SPEC_JSON_RESPONSE), undefined);
    assert.equal(res.outputs[0]!.datatype, 'FP32');
    assert.deepEqual(Array.from(res.outputs[0]!.values as Float32Array), [1.0, 1.1, 2.0, 2.1, 3.0, 3.1].map(Math.fround));
  });

  test('the binary request example: 16 bytes of UINT32 then 3 of BOOL after the JSON, Inference-Header-Content-Length', () => {
    const head = enc(SPEC_BINARY_REQUEST_HEAD);
    const input0 = new Uint8Array(new Uint32Array([1, 2, 3, 4]).buffer);
    const body = cat(head, input0, new Uint8Array([1, 0, 1]));
    assert.equal(body.byteLength, head.byteLength + 19, 'the example says 19 bytes of binary data');
    const req = decodeInferRequest(body, String(head.byteLength));
    assert.deepEqual(Array.from(req.inputs[0]!.values as Uint32Array), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(req.inputs[1]!.values as Uint8Array), [1, 0, 1]);
    assert.deepEqual(req.outputs, [{ name: 'output0', binary: true }]);
  });

  test('the binary response example: our server writes it, our client reads it', () => {
    const output0: Tensor = { name: 'output0', datatype: 'FP32', shape: [3, 2], values: new Float32Array([1, 1.1, 2, 2.1, 3, 3.1]) };
    const { body, headerLength } = encodeInferResponse({ model_name: 'mymodel', outputs: [output0] }, { outputs: [{ name: 'output0', binary: true }] });
    const { json, binary } = decodeInferBody(body, headerLength);
    assert.deepEqual(json, { model_name: 'mymodel', outputs: [{ name: 'output0', datatype: 'FP32', shape: [3, 2], parameters: { binary_data_size: 24 } }] });
    assert.equal(binary.byteLength, 24);
    // The example's body exactly (its JSON, then the 24 bytes) reads the same.
    const head = enc(SPEC_BINARY_RESPONSE_HEAD);
    const res = decodeInferResponse(cat(head, binary), head.byteLength);
    assert.deepEqual(Array.from(res.outputs[0]!.values as Float32Array), Array.from(output0.values as Float32Array));
  });

  test('the request example as printed (BOOL shape [3] with one value) is a clear error, not a guess', () => {
    assert.throws(() => decodeInferRequest(enc(SPEC_JSON_REQUEST.replace('[ true, false, true ]', '[ true ]')), undefined), /input1.*3 elements; data has 1/);
  });
});

describe('KServe v2 bodies: round trips and refusals', () => {
  const tensors: Tensor[] = [
    { name: 'f32', datatype: 'FP32', shape: [1, 2, 2], values: new Float32Array([0.5, -1, 3.25, 1e-3]) },
    { name: 'i64', datatype: 'INT64', shape: [2], values: new BigInt64Array([-5n, 7n]) },
    { name: 'u8', datatype: 'UINT8', shape: [3], values: new Uint8Array([0, 128, 255]) },
    { name: 'b', datatype: 'BYTES', shape: [2], values: [enc('héllo'), enc('')] },
    { name: 'bool', datatype: 'BOOL', shape: [2], values: new Uint8Array([1, 0]) },
  ];
  for (const binaryInputs of [true, false]) {
    test(`a request with every kind of tensor, as ${binaryInputs ? 'binary data' : 'JSON data'}`, () => {
      const { body, headerLength } = encodeInferRequest(
        { id: 'x', inputs: tensors, outputs: [{ name: 'out', binary: true }], binaryOutputs: false },
        binaryInputs,
      );
      assert.equal(headerLength === undefined, !binaryInputs);
      const back = decodeInferRequest(body, headerLength);
      assert.equal(back.id, 'x');
      for (const [i, t] of tensors.entries()) {
        assert.deepEqual([back.inputs[i]!.name, back.inputs[i]!.datatype, back.inputs[i]!.shape], [t.name, t.datatype, t.shape]);
        assert.deepEqual(valuesToBinary(t.datatype, back.inputs[i]!.values), valuesToBinary(t.datatype, t.values));
      }
      assert.deepEqual(back.outputs, [{ name: 'out', binary: true }]);
      assert.equal(back.binaryOutputs, false);
    });
  }

  test('binary_data_output is the default for outputs not listed; binary_data on an output overrides it', () => {
    const out = (name: string): Tensor => ({ name, datatype: 'FP32', shape: [1], values: new Float32Array([1]) });
    const { body, headerLength } = encodeInferResponse(
      { model_name: 'm', outputs: [out('a'), out('b')] },
      { binaryOutputs: true, outputs: [{ name: 'b', binary: false }] },
    );
    const { json } = decodeInferBody(body, headerLength);
    const outputs = (json as { outputs: Array<{ name: string; data?: unknown; parameters?: unknown }> }).outputs;
    assert.deepEqual(outputs[0]!.parameters, { binary_data_size: 4 });
    assert.deepEqual(outputs[1]!.data, [1]);
  });

  test('malformed bodies are TensorDataErrors with a precise message', () => {
    const head = enc(SPEC_BINARY_REQUEST_HEAD);
    const good = cat(head, new Uint8Array(19));
    const cases: Array<[Uint8Array, string | number | undefined, RegExp]> = [
      [good, head.byteLength + 100, /not a length within the body/],
      [good, 'abc', /not a length within the body/],
      [good, undefined, /not a JSON object/],
      [cat(head, new Uint8Array(18)), head.byteLength, /goes past the body's binary data/],
      [cat(head, new Uint8Array(20)), head.byteLength, /1 bytes of binary data after/],
      [cat(head, new Uint8Array(16), new Uint8Array([1, 2, 0])), head.byteLength, /BOOL tensor: each byte must be 0 or 1/],
      [enc('{"inputs": []}'), undefined, /inputs/],
      [enc('{"inputs": [{"name": "a", "shape": [2], "datatype": "FP8", "data": [1, 2]}]}'), undefined, /datatype/],
      [enc('{"inputs": [{"name": "a", "shape": [2], "datatype": "INT8", "data": [1, 200]}]}'), undefined, /out of range/],
      [enc('{"inputs": [{"name": "a", "shape": [1], "datatype": "FP16", "data": [1]}]}'), undefined, /FP16 has no JSON/],
      [enc('{"inputs": [{"name": "a", "shape": [1], "datatype": "FP32"}]}'), undefined, /has no data/],
      [
        enc('{"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": [1]}, {"name": "a", "shape": [1], "datatype": "FP32", "data": [1]}]}'),
        undefined,
        /given twice/,
      ],
      [enc('[1]'), undefined, /not a JSON object/],
    ];
    for (const [body, len, re] of cases)
      assert.throws(
        () => decodeInferRequest(body, len),
        (e: unknown) => e instanceof TensorDataError && re.test(e.message),
        `${re}`,
      );
  });

  test('BYTES elements are length-prefixed; a bad prefix is refused', () => {
    const bytes = valuesToBinary('BYTES', [enc('ab'), enc('c')]);
    assert.deepEqual(Array.from(bytes), [2, 0, 0, 0, 97, 98, 1, 0, 0, 0, 99]);
    assert.throws(() => valuesFromBinary('BYTES', [2], bytes.subarray(0, 9)), /element 1 says 1 bytes, past the data|element 1 of 2 is missing/);
    assert.throws(() => valuesFromBinary('BYTES', [1], bytes), /bytes after its 1 elements/);
  });

  test('the body codec alone: JSON only without binary parts, and the parts cut by binary_data_size', () => {
    assert.equal(encodeInferBody({ a: 1 }, []).headerLength, undefined);
    const { body, headerLength } = encodeInferBody({ a: 1 }, [new Uint8Array([1, 2]), new Uint8Array([3])]);
    const { binary } = decodeInferBody(body, headerLength);
    const parts = takeBinaryTensors(
      [{ name: 'x', parameters: { binary_data_size: 2 } }, { name: 'j' }, { name: 'y', parameters: { binary_data_size: 1 } }],
      binary,
    );
    assert.deepEqual(
      [...parts].map(([k, v]) => [k, Array.from(v)]),
      [
        ['x', [1, 2]],
        ['y', [3]],
      ],
    );
  });
});
