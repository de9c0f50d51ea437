import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReorderBuffer, type ReorderBufferOptions, type ReorderOutput } from '../src/rtp/reorder-buffer.js';

/** Outputs as short strings: '12' a packet, 'lost 14+2' a gap, 'reset'. Also checks each item is its own packet. */
function show(out: ReorderOutput<string>[]): string[] {
  return out.map((o) => {
    if (o.type === 'packet') {
      assert.equal(o.item, `p${o.seq}`);
      return String(o.seq);
    }
    return o.type === 'lost' ? `lost ${o.firstSeq}+${o.count}` : 'reset';
  });
}

function buffer(options: Partial<ReorderBufferOptions> = {}) {
  const b = new ReorderBuffer<string>({ maxWaitMs: 50, ...options });
  return {
    b,
    push: (seq: number, nowMs: number) => show(b.push(seq, `p${seq}`, nowMs)),
    poll: (nowMs: number) => show(b.poll(nowMs)),
  };
}

describe('ReorderBuffer', () => {
  test('in-order packets go straight through', () => {
    const { b, push } = buffer();
    assert.deepEqual([push(1, 0), push(2, 1), push(3, 2)], [['1'], ['2'], ['3']]);
    assert.equal(b.size, 0);
    assert.equal(b.nextDeadlineMs(), undefined);
  });

  test('a scenario with reordering, a duplicate of each kind, a lost packet and a late one', () => {
    const { b, push, poll } = buffer();
    assert.deepEqual(push(10, 0), ['10']);
    assert.deepEqual(push(11, 1), ['11']);
    assert.deepEqual(push(13, 2), [], '12 is missing: 13 waits');
    assert.deepEqual(push(12, 3), ['12', '13'], 'reordered 12 fills the gap');
    assert.deepEqual(push(12, 4), [], 'duplicate of a released packet');
    assert.deepEqual(push(15, 5), []);
    assert.deepEqual(push(16, 6), []);
    assert.deepEqual(push(16, 6), [], 'duplicate of a held packet');
    assert.equal(b.nextDeadlineMs(), 55, 'the oldest held packet (15, at 5 ms) waits 50 ms');
    assert.deepEqual(poll(54), []);
    assert.deepEqual(poll(55), ['lost 14+1', '15', '16']);
    assert.deepEqual(push(14, 60), [], '14 comes after its gap was skipped: late');
    assert.deepEqual(push(17, 61), ['17']);
    assert.deepEqual(b.counters, { released: 7, duplicates: 2, late: 1, lost: 1, resets: 0 });
  });

  test('push also releases what ran out of time, without a poll', () => {
    const { push } = buffer();
    push(1, 0);
    push(3, 10);
    assert.deepEqual(push(4, 60), ['lost 2+1', '3', '4']);
  });

  test('each held packet waits at most maxWaitMs, gap after gap', () => {
    const { b, push, poll } = buffer();
    push(1, 0);
    push(3, 0); // 2 missing
    push(5, 30); // 4 missing
    push(7, 45); // 6 missing
    assert.deepEqual(poll(49), []);
    assert.deepEqual(poll(50), ['lost 2+1', '3'], '5 has waited only 20 ms');
    assert.equal(b.nextDeadlineMs(), 80);
    assert.deepEqual(poll(95), ['lost 4+1', '5', 'lost 6+1', '7'], 'both remaining ran out by 95 ms');
    assert.equal(b.counters.lost, 3);
  });

  test('reorders across the 65535 → 0 wrap', () => {
    const { push } = buffer();
    assert.deepEqual(push(65534, 0), ['65534']);
    assert.deepEqual(push(0, 1), []);
    assert.deepEqual(push(1, 2), []);
    assert.deepEqual(push(65535, 3), ['65535', '0', '1']);
    assert.deepEqual(push(2, 4), ['2']);
  });

  test('reports a lost range that crosses the wrap', () => {
    const { b, push, poll } = buffer();
    push(65533, 0);
    push(65534, 1);
    push(1, 2); // 65535 and 0 missing
    assert.deepEqual(poll(52), ['lost 65535+2', '1']);
    assert.equal(b.counters.lost, 2);
    assert.deepEqual(push(0, 53), [], 'late after the wrap');
    assert.equal(b.counters.late, 1);
    assert.deepEqual(push(1, 54), [], 'and a duplicate after the wrap');
    assert.equal(b.counters.duplicates, 1);
  });

  test('a jump beyond maxDropout is a new stream: what was held goes out, then a reset', () => {
    const { b, push } = buffer({ maxDropout: 3000 });
    push(10, 0);
    push(11, 1);
    push(13, 2);
    assert.deepEqual(push(20000, 3), ['lost 12+1', '13', 'reset', '20000']);
    assert.deepEqual(push(20001, 4), ['20001']);
    assert.deepEqual(push(11, 5), [], 'a packet of the old stream is now far behind');
    assert.equal(b.counters.resets, 1);
  });

  test('a jump of more than half the sequence space looks like a packet from far behind', () => {
    const { b, push } = buffer();
    push(10, 0);
    assert.deepEqual(push(40000, 1), [], 'dropped, as a stray');
    assert.deepEqual(push(40001, 2), ['reset', '40001'], 'the next one in line confirms a new stream');
    assert.equal(b.counters.late, 1);
  });

  test('one very old packet is dropped; two in a row from far behind restart the stream', () => {
    const { b, push } = buffer({ maxMisorder: 100 });
    push(1000, 0);
    push(1001, 1);
    assert.deepEqual(push(800, 2), [], 'very old: dropped');
    assert.deepEqual(push(1002, 3), ['1002']);
    assert.deepEqual(b.counters, { released: 3, duplicates: 0, late: 1, lost: 0, resets: 0 });
    assert.deepEqual(push(500, 4), []);
    assert.deepEqual(push(501, 5), ['reset', '501']);
    assert.deepEqual(push(502, 6), ['502']);
    assert.equal(b.counters.resets, 1);
  });

  test('beyond capacity, the oldest gap is skipped at once', () => {
    const { b, push } = buffer({ capacity: 4 });
    push(1, 0);
    for (const s of [3, 4, 5]) assert.deepEqual(push(s, 1), []);
    assert.equal(b.size, 3, 'the window is 2..5, from the missing 2');
    assert.deepEqual(push(6, 2), ['lost 2+1', '3', '4', '5', '6']);
    assert.deepEqual(push(8, 3), []);
    assert.equal(b.size, 1, '8 waits for 7');
  });

  test('flush releases everything held and reports the gaps between', () => {
    const { b, push } = buffer();
    push(1, 0);
    push(3, 1);
    push(6, 2);
    assert.deepEqual(show(b.flush()), ['lost 2+1', '3', 'lost 4+2', '6']);
    assert.equal(b.size, 0);
    assert.deepEqual(push(7, 3), ['7']);
  });
});
