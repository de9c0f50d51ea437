import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ServerMessage } from '@sightline/protocol';
import type { EngineChannel } from '../../src/engine/media-engine.js';
import { OutputRouter } from '../../src/session/output-router.js';

/** An in-memory channel: what it was sent, and whether it is open. */
function channel(label: string, open = true): EngineChannel & { sent: string[]; setOpen(): void } {
  const ch = {
    label,
    open,
    bufferedAmount: 0,
    sent: [] as string[],
    onMessage: undefined,
    onOpen: undefined as (() => void) | undefined,
    onClose: undefined,
    send(text: string) {
      if (!ch.open) return false;
      ch.sent.push(text);
      return true;
    },
    setOpen() {
      ch.open = true;
      ch.onOpen?.();
    },
  };
  return ch;
}
const result = (id: number): ServerMessage => ({
  type: 'result',
  frame_id: id,
  boxes: [],
  width: 2,
  height: 2,
  processor: 'null',
  timing: { received_ms: 0, queue_ms: 0, inference_ms: 0, total_ms: 0 },
  dropped: 0,
});
const ids = (sent: string[]) =>
  sent
    .map((t) => JSON.parse(t) as { type: string; frame_id?: number })
    .filter((m) => m.type === 'result')
    .map((m) => m.frame_id);

describe('OutputRouter', () => {
  test('results wait for the first reader (the newest N), then go out in order; evictions are undelivered', () => {
    const settled: boolean[] = [];
    const r = new OutputRouter({ maxBufferedBytes: 1 << 20, earlyMessages: 3, onSettled: (_m, _t, ok) => settled.push(ok) });
    for (let i = 0; i < 5; i++) r.deliver(result(i), true);
    assert.deepEqual(r.counters, { sent: 0, undelivered: 5, held: 0 }, 'held ones count as undelivered until sent');
    const ch = channel('results', false);
    r.addChannel(ch);
    assert.deepEqual(ch.sent, []);
    ch.setOpen();
    assert.deepEqual(ids(ch.sent), [2, 3, 4]);
    r.deliver(result(5), true);
    assert.deepEqual(ids(ch.sent), [2, 3, 4, 5]);
    assert.deepEqual(r.counters, { sent: 4, undelivered: 2, held: 3 });
    assert.deepEqual(settled, [false, false, true, true, true, true]);
  });

  test('a slow consumer loses results, counted: a channel over maxBufferedBytes, a watcher that could not take it', () => {
    const r = new OutputRouter({ maxBufferedBytes: 1000, earlyMessages: 0 });
    const ch = channel('results');
    r.addChannel(ch);
    r.deliver(result(0), true);
    ch.bufferedAmount = 5000; // the client stopped reading: SCTP holds what was sent
    r.deliver(result(1), true);
    assert.deepEqual(ids(ch.sent), [0]);
    assert.deepEqual(r.counters, { sent: 1, undelivered: 1, held: 0 });
    r.removeChannel(ch);
    let full = true;
    const seen: number[] = [];
    r.watch({ onMessage: (m) => (full ? false : (seen.push((m as { frame_id: number }).frame_id), true)), onEnd: () => undefined });
    r.deliver(result(2), true);
    full = false;
    r.deliver(result(3), true);
    assert.deepEqual(seen, [3]);
    assert.deepEqual(r.counters, { sent: 2, undelivered: 2, held: 0 });
  });

  test('"results" is preferred over other channels; a watcher is a reader; replies go where they were asked', () => {
    const r = new OutputRouter({ maxBufferedBytes: 1 << 20 });
    const other = channel('control');
    const results = channel('results');
    r.addChannel(other);
    r.addChannel(results);
    const seen: ServerMessage[] = [];
    r.watch({ onMessage: (m) => seen.push(m), onEnd: () => undefined });
    r.deliver(result(0), true);
    r.deliver({ type: 'pong', server_ms: 1 }, false, other);
    assert.deepEqual(ids(results.sent), [0]);
    assert.deepEqual(other.sent, ['{"type":"pong","server_ms":1}']);
    assert.deepEqual(
      seen.map((m) => m.type),
      ['result'],
    );
  });

  test('a capture hint no one could read is sent when a channel opens; close() ends watchers and counts what waited', () => {
    const r = new OutputRouter<'deleted'>({ maxBufferedBytes: 1 << 20 });
    r.sendHint({ type: 'capture_hint', max_width: 256, max_height: 192, max_fps: 30 });
    r.deliver(result(0), true);
    const ch = channel('results');
    r.addChannel(ch);
    assert.deepEqual(
      ch.sent.map((t) => JSON.parse(t).type),
      ['result', 'capture_hint'],
    );
    r.removeChannel(ch);
    r.deliver(result(1), true);
    const ends: string[] = [];
    r.watch({ onMessage: () => undefined, onEnd: (why) => ends.push(why) });
    r.close('deleted');
    assert.deepEqual(ends, ['deleted']);
    r.deliver(result(2), true);
    assert.deepEqual(r.counters, { sent: 2, undelivered: 1, held: 2 });
  });
});
