import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchScheduler, type Plan } from '../../src/models/batch-scheduler.js';

/** Models by largest batch: "dyn" batches up to 4, "fixed" has a fixed batch dimension of 1. */
const MAX: Record<string, number> = { dyn: 4, fixed: 1 };
const scheduler = (maxDelayMs = 0) => new BatchScheduler<string>({ maxBatch: (m) => MAX[m]!, maxDelayMs });
/** The plan as [worker, model, items] rows. */
const rows = (p: Plan<string>) => p.batches.map((b) => [b.worker, b.model, b.items] as const);

describe('BatchScheduler (pure: no threads, no timers)', () => {
  test('with no delay allowed, an idle worker takes a batch at once: one request per session in turn (oldest first), up to maxBatch', () => {
    const s = scheduler();
    s.push('dyn', 'a', 'a1', 1);
    s.push('dyn', 'a', 'a2', 2);
    s.push('dyn', 'a', 'a3', 3);
    s.push('dyn', 'b', 'b1', 4);
    s.push('dyn', 'c', 'c1', 5);
    s.push('dyn', 'c', 'c2', 6);
    const p = s.plan([0], 10);
    // The idle worker gets the first batch, then (depth 2) a second one queued behind it.
    assert.deepEqual(rows(p), [
      [0, 'dyn', ['a1', 'b1', 'c1', 'a2']],
      [0, 'dyn', ['a3', 'c2']],
    ]);
    assert.equal(p.wakeAt, undefined);
    assert.equal(s.queued, 0);
  });

  test('a worker holds two batches at most; one holding two gets nothing', () => {
    const s = scheduler();
    for (let i = 0; i < 3; i++) s.push('fixed', `s${i}`, `r${i}`, i);
    assert.deepEqual(rows(s.plan([2], 10)), []);
    assert.deepEqual(rows(s.plan([1], 10)), [[0, 'fixed', ['r0']]]);
    assert.equal(s.queued, 2);
  });

  test('idle workers are served before any worker gets a second batch', () => {
    const s = scheduler();
    for (let i = 0; i < 4; i++) s.push('fixed', `s${i}`, `r${i}`, i);
    // Worker 0 already runs a batch, workers 1 and 2 are idle.
    assert.deepEqual(rows(s.plan([1, 0, 0], 10)), [
      [1, 'fixed', ['r0']],
      [2, 'fixed', ['r1']],
      [0, 'fixed', ['r2']],
      [1, 'fixed', ['r3']],
    ]);
  });

  test('among models with a batch due, the one with the oldest request goes first', () => {
    const s = scheduler();
    s.push('dyn', 'a', 'd1', 5);
    s.push('fixed', 'a', 'f1', 3);
    assert.deepEqual(rows(s.plan([0], 10)), [
      [0, 'fixed', ['f1']],
      [0, 'dyn', ['d1']],
    ]);
  });

  test('with maxDelayMs, a batch waits to fill while young, and the plan says when to look again', () => {
    const s = scheduler(30);
    s.push('dyn', 'a', 'a1', 100);
    s.push('dyn', 'b', 'b1', 110);
    const early = s.plan([0], 120);
    assert.deepEqual(rows(early), []);
    assert.equal(early.wakeAt, 130, 'when the oldest request has waited 30 ms');
    const due = s.plan([0], 130);
    assert.deepEqual(rows(due), [[0, 'dyn', ['a1', 'b1']]]);
    assert.equal(due.wakeAt, undefined);
  });

  test('a full batch is due at once, however young', () => {
    const s = scheduler(30);
    for (const x of ['a', 'b', 'c', 'd', 'e']) s.push('dyn', x, x, 100);
    const p = s.plan([0], 101);
    assert.deepEqual(rows(p), [[0, 'dyn', ['a', 'b', 'c', 'd']]], 'the fifth request waits: no longer a full batch');
    assert.equal(p.wakeAt, undefined, 'the worker is busy now: its answer replans');
    assert.equal(s.plan([0], 101).wakeAt, 130, 'with an idle worker the young remainder needs a wake-up');
  });

  test('no wake-up while every worker is busy, and no batch without workers', () => {
    const s = scheduler(30);
    s.push('dyn', 'a', 'a1', 100);
    assert.equal(s.plan([1], 110).wakeAt, undefined);
    assert.deepEqual(s.plan([], 500), { batches: [], wakeAt: undefined });
    assert.equal(s.queued, 1);
  });

  test('a fixed batch dimension means batches of one; stats count batches, frames and sizes', () => {
    const s = scheduler();
    for (let i = 0; i < 3; i++) s.push('fixed', `s${i}`, `f${i}`, i);
    for (let i = 0; i < 3; i++) s.push('dyn', `s${i}`, `d${i}`, 10 + i);
    s.plan([0, 0], 20);
    s.plan([0, 0], 21);
    assert.deepEqual(s.stats, { batches: 4, frames: 6, sizes: { 1: 3, 3: 1 } });
    assert.equal(s.queued, 0);
  });

  test('load: queue depth and the age of the oldest waiting request', () => {
    const s = scheduler(1000);
    assert.deepEqual(s.load(50), { queued: 0, oldestQueuedMs: 0, waitMs: 0 });
    s.push('dyn', 'a', 'a1', 100);
    s.push('fixed', 'b', 'b1', 40);
    assert.deepEqual(s.load(150), { queued: 2, oldestQueuedMs: 110, waitMs: 0 });
  });

  test('load: the recent wait moves a fifth of the way to each sample and fades with a 2 s time constant', () => {
    const s = scheduler();
    s.noteWait(100, 1000);
    assert.equal(s.load(1000).waitMs, 20);
    s.noteWait(100, 1000);
    assert.equal(s.load(1000).waitMs, 36);
    assert.ok(Math.abs(s.load(3000).waitMs - 36 * Math.exp(-1)) < 1e-9);
    s.noteWait(-50, 3000); // a negative wait (clock skew) counts as none
    assert.ok(Math.abs(s.load(3000).waitMs - 0.8 * 36 * Math.exp(-1)) < 1e-9);
  });

  test('drain empties every queue and returns what waited', () => {
    const s = scheduler(1000);
    s.push('dyn', 'a', 'a1', 1);
    s.push('fixed', 'b', 'b1', 2);
    assert.deepEqual(s.drain().sort(), ['a1', 'b1']);
    assert.equal(s.queued, 0);
    assert.deepEqual(s.plan([0], 5000).batches, []);
  });
});
