import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import {
  ClientMessage,
  describeZodError,
  EncodedFrameSender,
  ErrorBody,
  OfferRequest,
  parseFrameChunk,
  percentile,
  ResultMessage,
  ServerMessage,
} from '../src/index.js';

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

describe('EncodedFrameSender', () => {
  const setup = (window: number) => {
    const sent: Array<{ id: number; index: number }> = [];
    let clock = 0;
    let buffered = 0;
    const sender = new EncodedFrameSender({
      window,
      chunkBytes: 100,
      ackTimeoutMs: 1000,
      now: () => clock,
      bufferedAmount: () => buffered,
      sendChunk: (c) => {
        const p = parseFrameChunk(c);
        if ('error' in p) throw new Error(p.error);
        sent.push({ id: p.frameId, index: p.index });
      },
    });
    return { sender, sent, tick: (ms: number) => (clock += ms), setBuffered: (b: number) => (buffered = b) };
  };

  test('never has more than `window` frames unacknowledged; the latest waiting frame wins', () => {
    const { sender, sent } = setup(2);
    for (let i = 0; i < 5; i++) sender.offer(new Uint8Array(250));
    // Frames 0 and 1 sent (3 chunks each); of the three offered after, only the last waits.
    assert.deepEqual([...new Set(sent.map((s) => s.id))], [0, 1]);
    assert.equal(sent.length, 6);
    assert.deepEqual(sender.stats, { sent: 2, processed: 0, dropped: 0, failed: 0, rejected: 0, skipped: 2, lost: 0, inFlight: 2 });
    sender.onAck({ type: 'frame_ack', frame_id: 0, status: 'processed' });
    assert.deepEqual([...new Set(sent.map((s) => s.id))], [0, 1, 2]);
    sender.onAck({ type: 'frame_ack', frame_id: 1, status: 'dropped' });
    assert.equal(sender.stats.inFlight, 1);
    assert.equal(sender.stats.dropped, 1);
  });

  test('a full transport buffer holds frames back; unacknowledged frames time out as lost', () => {
    const { sender, sent, tick, setBuffered } = setup(1);
    setBuffered(2 << 20);
    sender.offer(new Uint8Array(10));
    assert.equal(sent.length, 0);
    setBuffered(0);
    sender.offer(new Uint8Array(10));
    assert.equal(sent.length, 1);
    tick(1500);
    sender.offer(new Uint8Array(10));
    assert.equal(sender.stats.lost, 1);
    assert.equal(sent.length, 2);
  });
});

describe('percentile and describeZodError: one definition each', () => {
  test('nearest rank: ⌊p/100 · n⌋, clamped; undefined when empty; the input is left alone', () => {
    const xs = [5, 1, 4, 2, 3];
    assert.equal(percentile(xs, 50), 3);
    assert.equal(percentile(xs, 95), 5);
    assert.equal(percentile(xs, 100), 5);
    assert.equal(percentile(xs, 0), 1);
    assert.equal(percentile([], 50), undefined);
    assert.deepEqual(xs, [5, 1, 4, 2, 3]);
  });

  test("a schema failure is zod's prettifyError text on one line, with each path", () => {
    const r = z
      .object({ a: z.number().max(1), b: z.object({ c: z.string() }) })
      .strict()
      .safeParse({ a: 7, b: { c: 1 }, x: 1 });
    assert.ok(!r.success);
    const text = describeZodError(r.error);
    assert.doesNotMatch(text, /\n/);
    assert.match(text, /Too big: expected number to be <=1 \(at a\)/);
    assert.match(text, /\(at b\.c\)/);
    assert.match(text, /Unrecognized key: "x"/);
  });
});
