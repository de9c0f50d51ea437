import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClientMessage, ErrorBody, OfferRequest, ResultMessage, ServerMessage } from '../src/index.js';

describe('OfferRequest', () => {
  test("accepts the seed's body, with user_id null as its Python client sends it", () => {
    assert.ok(OfferRequest.safeParse({ sdp: 'v=0', type: 'offer', user_id: null }).success);
    assert.ok(OfferRequest.safeParse({ sdp: 'v=0', type: 'offer', user_id: 'u1' }).success);
    assert.ok(OfferRequest.safeParse({ sdp: 'v=0', type: 'offer' }).success);
  });
  test('accepts processor and params', () => {
    const r = OfferRequest.parse({ sdp: 'v=0', type: 'offer', processor: 'face', params: { min_score: 0.7 } });
    assert.equal(r.processor, 'face');
  });
  test('rejects answers, empty SDP and odd processor names', () => {
    assert.ok(!OfferRequest.safeParse({ sdp: 'v=0', type: 'answer' }).success);
    assert.ok(!OfferRequest.safeParse({ sdp: '', type: 'offer' }).success);
    assert.ok(!OfferRequest.safeParse({ sdp: 'v=0', type: 'offer', processor: '../etc' }).success);
  });
});

describe('ResultMessage', () => {
  const result = {
    type: 'result',
    frame_id: 42,
    boxes: [{ class: 'face', score: 0.9, box: [1, 2, 3, 4] }],
    width: 640,
    height: 480,
    processor: 'face',
    timing: { received_ms: 1, queue_ms: 0, inference_ms: 5, total_ms: 6 },
    dropped: 0,
  };
  test("carries the seed's frame_id and boxes [x, y, w, h]", () => {
    const r = ResultMessage.parse(result);
    assert.deepEqual(r.boxes[0]!.box, [1, 2, 3, 4]);
    assert.equal(ServerMessage.parse(result).type, 'result');
  });
  test('rejects a box that is not four numbers', () => {
    assert.ok(!ResultMessage.safeParse({ ...result, boxes: [{ class: 'face', box: [1, 2, 3] }] }).success);
  });
});

describe('messages', () => {
  test('client messages: ping and set', () => {
    assert.ok(ClientMessage.safeParse({ type: 'ping', id: 1 }).success);
    assert.ok(ClientMessage.safeParse({ type: 'set', params: { min_score: 0.9 } }).success);
    assert.ok(!ClientMessage.safeParse({ type: 'set', processor: 5 }).success);
    assert.ok(!ClientMessage.safeParse({ type: 'teleport' }).success);
  });
  test('error bodies name a known code', () => {
    assert.ok(ErrorBody.safeParse({ error: { code: 'invalid_sdp', message: 'x' } }).success);
    assert.ok(!ErrorBody.safeParse({ error: { code: 'made_up', message: 'x' } }).success);
  });
});
