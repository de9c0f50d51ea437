import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aloneKey, concatRows, RawBatcher, rawBatchKey, rowsSplittable, splitRows } from '../../src/models/raw-batcher.js';
import type { RawTensor } from '../../src/models/worker-messages.js';

/** A float32 tensor whose values are `first`, `first + 1`… */
function f32(name: string, dims: number[], first = 0): RawTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return { name, type: 'float32', dims, data: Float32Array.from({ length: n }, (_, i) => first + i).buffer };
}
const values = (t: RawTensor): number[] => [...new Float32Array(t.data)];

describe('raw-batcher (pure: client tensors batched by row)', () => {
  test('a model batches only when every input and output has the same dynamic dim 0', () => {
    const v = (name: string, shape: Array<number | string>) => ({ name, shape, type: 'float32' });
    assert.equal(rowsSplittable({ inputs: [v('x', ['N', 3])], outputs: [v('y', ['N', 2]), v('z', ['N'])] }), true);
    assert.equal(rowsSplittable({ inputs: [v('x', [-1, 3])], outputs: [v('y', [-1, 2])] }), true);
    assert.equal(rowsSplittable({ inputs: [v('x', [1, 3])], outputs: [v('y', [1, 2])] }), false, 'fixed batch');
    assert.equal(rowsSplittable({ inputs: [v('x', ['N', 3])], outputs: [v('y', ['dets', 6])] }), false, 'an output counted otherwise');
    assert.equal(rowsSplittable({ inputs: [v('x', ['N', 3])], outputs: [v('y', [2])] }), false);
    assert.equal(rowsSplittable({ inputs: [v('x', ['N', 3])], outputs: [{ name: 'm', shape: [], type: 'non-tensor' }] }), false);
  });

  test('the key: same model, names, types and dims but the first; input order does not matter', () => {
    const a = rawBatchKey('m', [f32('x', [1, 3]), f32('y', [1, 2])]);
    const b = rawBatchKey('m', [f32('y', [2, 2]), f32('x', [2, 3])]);
    assert.equal(a?.rows, 1);
    assert.equal(b?.rows, 2);
    assert.equal(a?.key, b?.key);
    assert.notEqual(rawBatchKey('m', [f32('x', [1, 4]), f32('y', [1, 2])])?.key, a?.key, 'other dims');
    assert.notEqual(rawBatchKey('other', [f32('x', [1, 3]), f32('y', [1, 2])])?.key, a?.key, 'other model');
    const int = { ...f32('x', [1, 3]), type: 'int32' };
    assert.notEqual(rawBatchKey('m', [int, f32('y', [1, 2])])?.key, a?.key, 'other type');
  });

  test('what must run alone has no key', () => {
    assert.equal(rawBatchKey('m', []), undefined);
    assert.equal(rawBatchKey('m', [f32('x', [1, 3]), f32('y', [2, 3])]), undefined, 'inputs disagree on dim 0');
    assert.equal(rawBatchKey('m', [f32('x', [0, 3])]), undefined, 'no rows');
    assert.equal(rawBatchKey('m', [f32('x', [1, 3]), f32('x', [1, 3])]), undefined, 'a name twice');
    assert.equal(rawBatchKey('m', [{ ...f32('x', [1, 3]), dims: [1, 4] }]), undefined, 'data shorter than its shape');
    assert.equal(rawBatchKey('m', [{ ...f32('x', [1, 3]), type: 'string' }]), undefined, 'no fixed element size');
  });

  test('concatenated by row in request order, split back with each its own rows', () => {
    const batch = concatRows([[f32('x', [1, 3], 0)], [f32('x', [2, 3], 100)]]);
    assert.deepEqual(batch[0]!.dims, [3, 3]);
    assert.deepEqual(values(batch[0]!), [0, 1, 2, 100, 101, 102, 103, 104, 105]);
    // Inputs in another order in the second request are matched by name.
    const two = concatRows([
      [f32('a', [1, 1], 1), f32('b', [1, 1], 2)],
      [f32('b', [1, 1], 4), f32('a', [1, 1], 3)],
    ]);
    assert.deepEqual(
      two.map((t) => [t.name, values(t)]),
      [
        ['a', [1, 3]],
        ['b', [2, 4]],
      ],
    );
    const parts = splitRows([f32('y', [3, 2], 0), f32('z', [3], 50)], [1, 2]);
    assert.deepEqual(
      parts.map((p) => p.map((t) => [t.name, t.dims, values(t)])),
      [
        [
          ['y', [1, 2], [0, 1]],
          ['z', [1], [50]],
        ],
        [
          ['y', [2, 2], [2, 3, 4, 5]],
          ['z', [2], [51, 52]],
        ],
      ],
    );
    assert.throws(() => splitRows([f32('y', [4, 2])], [1, 2]), /not 3 rows/);
  });

  test('a group goes when full, at once without a delay, or when its oldest waited maxDelayMs; rows never exceed the max', () => {
    const b = new RawBatcher<string>({ maxDelayMs: 2 });
    b.push('k', 8, 'a', 1, 100);
    b.push('k', 8, 'b', 3, 100.5);
    const early = b.plan([0, 0], 101);
    assert.deepEqual(early.batches, []);
    assert.equal(early.wakeAt, 102);
    assert.equal(b.queued, 2);
    assert.equal(b.oldestQueuedMs(101), 1);
    const due = b.plan([0, 0], 102);
    assert.deepEqual(due.batches, [{ worker: 0, key: 'k', items: ['a', 'b'] }]);
    // 3 + 4 + 2 rows: the first two fill 7 of 8, the third waits for the next batch (order is kept).
    for (const [item, rows] of [
      ['c', 3],
      ['d', 4],
      ['e', 2],
    ] as const)
      b.push('k', 8, item, rows, 200);
    assert.deepEqual(b.plan([0, 0], 200).batches, [{ worker: 0, key: 'k', items: ['c', 'd'] }], 'full (9 rows ≥ 8): due at once');
    assert.deepEqual(b.plan([0, 0], 202).batches, [{ worker: 0, key: 'k', items: ['e'] }]);
    assert.deepEqual(b.stats, { batches: 3, requests: 5, rows: 13 });
    assert.equal(b.queued, 0);
    // A request of more rows than the max runs alone, at once.
    b.push('k', 8, 'big', 16, 300);
    assert.deepEqual(b.plan([0], 300).batches, [{ worker: 0, key: 'k', items: ['big'] }]);
  });

  test('requests that run alone go one per batch, idle workers first, two batches per worker at most, oldest group first', () => {
    const b = new RawBatcher<string>({ maxDelayMs: 5 });
    for (const [i, x] of ['r0', 'r1', 'r2', 'r3', 'r4'].entries()) b.push(aloneKey('fixed'), 1, x, 1, i);
    b.push('dyn', 8, 'd', 1, -1);
    const p = b.plan([1, 0], 10);
    assert.deepEqual(
      p.batches.map((x) => [x.worker, x.items]),
      [
        [1, ['d']],
        [0, ['r0']],
        [1, ['r1']],
      ],
    );
    assert.equal(b.queued, 3);
    assert.deepEqual(b.drain().sort(), ['r2', 'r3', 'r4'], 'drained (close, or no worker left)');
    assert.equal(b.queued, 0);
    assert.equal(b.plan([0], 20).wakeAt, undefined);
  });

  test('with no delay allowed a group goes at once; with every worker busy nothing wakes', () => {
    const b = new RawBatcher<string>({ maxDelayMs: 0 });
    b.push('k', 8, 'a', 1, 0);
    assert.deepEqual(b.plan([2], 1), { batches: [], wakeAt: undefined });
    assert.deepEqual(b.plan([0], 1).batches, [{ worker: 0, key: 'k', items: ['a'] }]);
    const c = new RawBatcher<string>({ maxDelayMs: 5 });
    c.push('k', 8, 'a', 1, 0);
    assert.equal(c.plan([1], 1).wakeAt, undefined, 'a busy worker replans when it answers');
  });
});
