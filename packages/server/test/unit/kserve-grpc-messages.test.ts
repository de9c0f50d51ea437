import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MethodDefinition } from '@grpc/grpc-js';
import {
  decodeGrpcInferRequest,
  decodeGrpcInferResponse,
  encodeGrpcInferRequest,
  encodeGrpcInferResponse,
  type GrpcInferRequest,
  type GrpcInferResponse,
} from '../../src/kserve/grpc-messages.js';
import { inferenceService } from '../../src/kserve/grpc-proto.js';
import type { Tensor } from '../../src/kserve/infer-messages.js';
import { TensorDataError, valuesToBinary } from '../../src/kserve/tensor-data.js';

const enc = (s: string) => new TextEncoder().encode(s);
const infer = () => inferenceService().ModelInfer as MethodDefinition<GrpcInferRequest, GrpcInferResponse>;
/** Through the wire: serialised and read back with the vendored proto, as a server or client gets it. */
const wireRequest = (m: GrpcInferRequest): GrpcInferRequest => infer().requestDeserialize(infer().requestSerialize(m));
const wireResponse = (m: GrpcInferResponse): GrpcInferResponse => infer().responseDeserialize(infer().responseSerialize(m));

/**
 * The REST document's inference example (input0 UINT32 [2, 2], input1 BOOL [3]; output0 FP32 [3, 2]) as the gRPC
 * messages carry it: once in typed contents, once as raw contents.
 */
describe('KServe v2 gRPC messages against the protocol example', () => {
  test('the request in typed contents (uint_contents, bool_contents)', () => {
    const req = decodeGrpcInferRequest(
      wireRequest({
        model_name: 'mymodel',
        id: '42',
        inputs: [
          { name: 'input0', datatype: 'UINT32', shape: [2, 2], contents: { uint_contents: [1, 2, 3, 4] } },
          { name: 'input1', datatype: 'BOOL', shape: [3], contents: { bool_contents: [true, false, true] } },
        ],
        outputs: [{ name: 'output0' }],
      }),
    );
    assert.equal(req.id, '42');
    assert.deepEqual(
      req.inputs.map((t) => [t.name, t.datatype, t.shape, Array.from(t.values as Uint32Array)]),
      [
        ['input0', 'UINT32', [2, 2], [1, 2, 3, 4]],
        ['input1', 'BOOL', [3], [1, 0, 1]],
      ],
    );
    assert.deepEqual(req.outputs, [{ name: 'output0', binary: true }]);
  });

  test('the request as raw contents: 16 bytes of UINT32 and 3 of BOOL, in the order of the inputs', () => {
    const req = decodeGrpcInferRequest(
      wireRequest({
        model_name: 'mymodel',
        inputs: [
          { name: 'input0', datatype: 'UINT32', shape: [2, 2] },
          { name: 'input1', datatype: 'BOOL', shape: [3] },
        ],
        raw_input_contents: [new Uint8Array(new Uint32Array([1, 2, 3, 4]).buffer), new Uint8Array([1, 0, 1])],
      }),
    );
    assert.equal(req.id, undefined);
    assert.equal(req.outputs, undefined, 'no outputs asked: all of them');
    assert.deepEqual(Array.from(req.inputs[0]!.values as Uint32Array), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(req.inputs[1]!.values as Uint8Array), [1, 0, 1]);
  });

  test('the response: our server writes raw contents, our client reads them and typed contents alike', () => {
    const output0: Tensor = { name: 'output0', datatype: 'FP32', shape: [3, 2], values: new Float32Array([1, 1.1, 2, 2.1, 3, 3.1]) };
    const msg = wireResponse(encodeGrpcInferResponse({ model_name: 'mymodel', model_version: '1', id: '42', outputs: [output0] }));
    assert.equal(msg.raw_output_contents!.length, 1);
    assert.equal(msg.raw_output_contents![0]!.byteLength, 24);
    assert.deepEqual(msg.outputs[0]!.shape, ['3', '2'], 'int64 dimensions read as decimal strings');
    const back = decodeGrpcInferResponse(msg);
    assert.deepEqual([back.model_name, back.model_version, back.id], ['mymodel', '1', '42']);
    assert.deepEqual(back.outputs[0]!.shape, [3, 2]);
    assert.deepEqual(Array.from(back.outputs[0]!.values as Float32Array), Array.from(output0.values as Float32Array));
    const typed = decodeGrpcInferResponse(
      wireResponse({
        model_name: 'mymodel',
        outputs: [{ name: 'output0', datatype: 'FP32', shape: [3, 2], contents: { fp32_contents: [1, 1.1, 2, 2.1, 3, 3.1] } }],
      }),
    );
    assert.deepEqual(Array.from(typed.outputs[0]!.values as Float32Array), Array.from(output0.values as Float32Array));
  });
});

describe('KServe v2 gRPC messages: round trips and refusals', () => {
  const tensors: Tensor[] = [
    { name: 'f32', datatype: 'FP32', shape: [1, 2, 2], values: new Float32Array([0.5, -1, 3.25, 1e-3]) },
    { name: 'i64', datatype: 'INT64', shape: [2], values: new BigInt64Array([-5n, 2n ** 62n]) },
    { name: 'u8', datatype: 'UINT8', shape: [3], values: new Uint8Array([0, 128, 255]) },
    { name: 'b', datatype: 'BYTES', shape: [2], values: [enc('héllo'), enc('')] },
    { name: 'bool', datatype: 'BOOL', shape: [2], values: new Uint8Array([1, 0]) },
    { name: 'half', datatype: 'FP16', shape: [1], values: new Uint16Array([0x3c00]) },
  ];

  test('a request with every kind of tensor, as raw contents (BYTES length-prefixed as over HTTP)', () => {
    const msg = wireRequest(encodeGrpcInferRequest({ id: 'x', inputs: tensors, outputs: [{ name: 'out', binary: false }] }, 'm', '3'));
    assert.deepEqual([msg.model_name, msg.model_version, msg.id], ['m', '3', 'x']);
    assert.deepEqual(Array.from(msg.raw_input_contents![3]!), [5 + 1, 0, 0, 0, ...enc('héllo'), 0, 0, 0, 0]);
    const back = decodeGrpcInferRequest(msg);
    for (const [i, t] of tensors.entries()) {
      assert.deepEqual([back.inputs[i]!.name, back.inputs[i]!.datatype, back.inputs[i]!.shape], [t.name, t.datatype, t.shape]);
      assert.deepEqual(valuesToBinary(t.datatype, back.inputs[i]!.values), valuesToBinary(t.datatype, t.values));
    }
    assert.deepEqual(back.outputs, [{ name: 'out', binary: true }]);
  });

  test('typed 64-bit contents stay exact past 2^53', () => {
    const req = decodeGrpcInferRequest(
      wireRequest({
        model_name: 'm',
        inputs: [
          { name: 'a', datatype: 'INT64', shape: [2], contents: { int64_contents: ['-9007199254740993', '5'] } },
          { name: 'b', datatype: 'UINT64', shape: [1], contents: { uint64_contents: ['18446744073709551615'] } },
          { name: 'c', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [enc('hi')] } },
        ],
      }),
    );
    assert.deepEqual(Array.from(req.inputs[0]!.values as BigInt64Array), [-9007199254740993n, 5n]);
    assert.deepEqual(Array.from(req.inputs[1]!.values as BigUint64Array), [2n ** 64n - 1n]);
    assert.deepEqual(req.inputs[2]!.values, [enc('hi')]);
  });

  test('malformed requests are TensorDataErrors with a precise message', () => {
    const t = (over: Partial<GrpcInferRequest['inputs'][number]> = {}) => ({ name: 'a', datatype: 'FP32', shape: [2], ...over });
    const raw8 = new Uint8Array(8);
    const cases: Array<[GrpcInferRequest, RegExp]> = [
      [{ model_name: 'm', inputs: [] }, /at least one input/],
      [{ model_name: 'm', inputs: [t(), t({ name: 'b' })], raw_input_contents: [raw8] }, /raw_input_contents has 1 entries for 2 inputs/],
      [{ model_name: 'm', inputs: [t({ contents: { fp32_contents: [1, 2] } })], raw_input_contents: [raw8] }, /input "a": contents and raw_input_contents/],
      [{ model_name: 'm', inputs: [t()], raw_input_contents: [new Uint8Array(7)] }, /input "a": FP32 tensor of shape \[2\] is 8 bytes; got 7/],
      [{ model_name: 'm', inputs: [t({ datatype: 'FP8' })], raw_input_contents: [raw8] }, /datatype "FP8" is not a protocol datatype/],
      [{ model_name: 'm', inputs: [t({ shape: [-2] })], raw_input_contents: [raw8] }, /non-negative integers/],
      [{ model_name: 'm', inputs: [t({ shape: Array(17).fill(1) })], raw_input_contents: [raw8] }, /17 dimensions; at most 16/],
      [{ model_name: 'm', inputs: [t(), t()], raw_input_contents: [raw8, raw8] }, /input "a" is given twice/],
      [{ model_name: 'm', inputs: [t({ name: '' })], raw_input_contents: [raw8] }, /inputs\[0\]: a name/],
      [{ model_name: 'm', inputs: [t()] }, /contents\.fp32_contents has 0/],
      [{ model_name: 'm', inputs: [t({ datatype: 'FP16', shape: [1], contents: {} })] }, /FP16 has no typed contents/],
      [{ model_name: 'm', inputs: [t({ datatype: 'INT8', shape: [1], contents: { int_contents: [200] } })] }, /out of range/],
      [{ model_name: 'm', inputs: [t({ datatype: 'BOOL', shape: [1] })], raw_input_contents: [new Uint8Array([2])] }, /each byte must be 0 or 1/],
      [{ model_name: 'm', inputs: [t()], raw_input_contents: [raw8], outputs: [{ name: '' }] }, /outputs\[0\]: a name/],
    ];
    for (const [msg, re] of cases) {
      assert.throws(
        () => decodeGrpcInferRequest(wireRequest(msg)),
        (e: unknown) => e instanceof TensorDataError && re.test(e.message),
        `${re}`,
      );
    }
    // Past the wire a uint64 cannot be negative; a message built in-process (or by another loader) can.
    for (const [v, re] of [
      ['-1', /UINT64 contents element 0 \(-1\) is out of range/],
      ['1e3', /UINT64 contents element 0 is not an integer/],
    ] as const) {
      assert.throws(
        () => decodeGrpcInferRequest({ model_name: 'm', inputs: [t({ datatype: 'UINT64', shape: [1], contents: { uint64_contents: [v] } })] }),
        (e: unknown) => e instanceof TensorDataError && re.test(e.message),
        `${re}`,
      );
    }
  });
});
