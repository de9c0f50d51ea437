import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ManagedWorker } from '../../src/workers/managed-worker.js';
import { workerEntry } from '../../src/workers/worker-entry.js';
import type { TestWorkerProtocol } from '../fixtures/test-worker.js';

const ENTRY = workerEntry(import.meta.url, '../fixtures/test-worker');

class TestUnavailableError extends Error {}

const started: Array<ManagedWorker<TestWorkerProtocol>> = [];
function start(
  init: TestWorkerProtocol['init'] = {},
  extra: { startTimeoutMs?: number; onDeath?: (e: Error) => void; onEvent?: (e: { n: number }) => void } = {},
): ManagedWorker<TestWorkerProtocol> {
  const w = new ManagedWorker<TestWorkerProtocol>({
    name: 'test worker',
    loads: 'its state',
    entry: ENTRY,
    init,
    startTimeoutMs: extra.startTimeoutMs ?? 30_000,
    error: (message) => new TestUnavailableError(message),
    ...(extra.onDeath ? { onDeath: extra.onDeath } : {}),
    ...(extra.onEvent ? { onEvent: extra.onEvent } : {}),
  });
  started.push(w);
  return w;
}

/** Settles to 'pending' if `p` has not settled after the message queues have had a moment. */
async function state(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  const tick = new Promise<'pending'>((r) => setTimeout(() => r('pending'), 50));
  return Promise.race([
    p.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    tick,
  ]);
}

/** `p`'s value, or a rejection naming `what` if it takes longer than `ms` (a hang fails the test, not the run). */
function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

// Each test gets its own time limit: a request that never settles fails that test.
describe('ManagedWorker (a real worker thread: test/fixtures/test-worker.ts)', { timeout: 60_000 }, () => {
  after(async () => {
    for (const w of started) await w.close(100);
  });

  test('ready carries what the thread reported; answers settle the request with their id, in any order', { timeout: 15_000 }, async () => {
    const w = start();
    const ready = await w.ready;
    assert.ok(ready.threadId > 0);
    const held = w.request({ op: 'hold' });
    const a = w.request({ op: 'echo', value: 'a' });
    const b = w.request({ op: 'echo', value: 'b' });
    assert.deepEqual(await Promise.all([b, a]), ['b', 'a']);
    assert.equal(await state(held), 'pending', 'the held request is not answered by the others');
    assert.equal(w.pending, 1);
    w.notify({ type: 'release' });
    assert.equal(await held, 'released');
    assert.equal(w.pending, 0);
  });

  test("an error answer rejects that request only, with the caller's Error class", { timeout: 15_000 }, async () => {
    const w = start();
    const failed = w.request({ op: 'fail', message: 'bad input' });
    const ok = w.request({ op: 'echo', value: 'fine' });
    await assert.rejects(failed, (e: Error) => e instanceof TestUnavailableError && e.message === 'bad input');
    assert.equal(await ok, 'fine');
  });

  test('requests sent before ready wait in the thread and are answered once it has started', { timeout: 15_000 }, async () => {
    const w = start();
    const early = w.request({ op: 'echo', value: 'early' });
    assert.equal(await early, 'early');
    await w.ready;
  });

  test('events reach onEvent, alone or with the answers of a run', { timeout: 15_000 }, async () => {
    const events: number[] = [];
    const w = start({}, { onEvent: (e) => events.push(e.n) });
    w.notify({ type: 'event', n: 7 });
    w.notify({ type: 'event', n: 8 });
    // An answer sent after them arrives after them.
    assert.equal(await w.request({ op: 'echo', value: 'x' }), 'x');
    assert.deepEqual(events, [7, 8]);
    // An event riding with answers (a run's statistics) is seen by the time those answers resolve.
    const held = [w.request({ op: 'hold' }), w.request({ op: 'hold' })];
    w.notify({ type: 'release' });
    const seen = await Promise.all(held.map((p) => p.then(() => [...events])));
    assert.deepEqual(seen, [
      [7, 8, 2],
      [7, 8, 2],
    ]);
  });

  test('a thread that dies mid-request: every pending request rejects, onDeath fires once, later requests reject', { timeout: 15_000 }, async () => {
    const deaths: Error[] = [];
    const w = start({}, { onDeath: (e) => deaths.push(e) });
    await w.ready;
    const a = w.request({ op: 'hold' });
    const b = w.request({ op: 'hold' });
    const crash = w.request({ op: 'crash' });
    for (const p of [a, b, crash]) await assert.rejects(p, (e: Error) => e instanceof TestUnavailableError && /test worker crashed/.test(e.message));
    assert.equal(deaths.length, 1);
    assert.match(deaths[0]!.message, /test worker crashed/);
    assert.equal(w.pending, 0);
    assert.equal(w.running, false);
    await assert.rejects(w.request({ op: 'echo', value: 'late' }), /test worker crashed/);
    assert.equal(await within(w.exited, 'exit'), 1);
    assert.equal(deaths.length, 1, 'the exit that follows the error is not a second death');
  });

  test('a thread that exits mid-request: its requests reject with the exit code', { timeout: 15_000 }, async () => {
    const deaths: Error[] = [];
    const w = start({}, { onDeath: (e) => deaths.push(e) });
    await w.ready;
    const held = w.request({ op: 'hold' });
    void w.request({ op: 'exit', code: 3 }).catch(() => {});
    await assert.rejects(held, /test worker exited with code 3/);
    assert.equal(deaths.length, 1);
  });

  test('a failed start rejects ready (and what was sent), names what failed to load, and is no death', { timeout: 15_000 }, async () => {
    const deaths: Error[] = [];
    const w = start({ failStart: 'no such file' }, { onDeath: (e) => deaths.push(e) });
    const early = w.request({ op: 'echo', value: 'x' });
    await assert.rejects(w.ready, /test worker failed to load its state: no such file/);
    await assert.rejects(early, /failed to load its state/);
    await within(w.exited, 'exit');
    assert.deepEqual(deaths, []);
  });

  test('a start past the timeout rejects ready and the thread is terminated', { timeout: 15_000 }, async () => {
    const w = start({ hangStart: true }, { startTimeoutMs: 1500 });
    const t0 = performance.now();
    await assert.rejects(w.ready, /test worker did not load its state within 1500 ms/);
    assert.ok(performance.now() - t0 >= 1400);
    assert.equal(await within(w.exited, 'exit'), 1, 'terminated');
  });

  test('close: pending requests and later ones reject with the reason; the thread exits by itself', { timeout: 15_000 }, async () => {
    const deaths: Error[] = [];
    const w = start({}, { onDeath: (e) => deaths.push(e) });
    await w.ready;
    const held = w.request({ op: 'hold' });
    const reason = new TestUnavailableError('pool closed');
    const closing = w.close(5000, reason);
    await assert.rejects(held, (e) => e === reason);
    await assert.rejects(w.request({ op: 'echo', value: 'x' }), (e) => e === reason);
    assert.equal(w.close(), closing, 'idempotent');
    await closing;
    assert.equal(await within(w.exited, 'exit'), 0, 'it exited on its own, not terminated');
    assert.deepEqual(deaths, [], 'closing is no death');
    w.notify({ type: 'release' }); // dropped, does not throw
  });

  test('close while starting rejects ready with the default reason', { timeout: 15_000 }, async () => {
    const w = start({ hangStart: true });
    const closing = w.close(200);
    await assert.rejects(w.ready, (e: Error) => e instanceof TestUnavailableError && e.message === 'test worker closed');
    await closing;
  });

  test('close: a thread that does not exit within the timeout is terminated', { timeout: 15_000 }, async () => {
    const w = start({ ignoreClose: true });
    await w.ready;
    const t0 = performance.now();
    await within(w.close(300), 'close');
    const took = performance.now() - t0;
    assert.ok(took >= 290 && took < 5000, `close took ${took} ms`);
    assert.equal(await within(w.exited, 'exit'), 1, 'terminated');
  });

  test('cancel(group) rejects that group only; an answer that still comes for it is ignored', { timeout: 15_000 }, async () => {
    const w = start();
    const one = w.request({ op: 'hold' }, [], 1);
    const two = w.request({ op: 'hold' }, [], 2);
    const reason = new TestUnavailableError('stream 1 ended');
    w.cancel(1, reason);
    await assert.rejects(one, (e) => e === reason);
    assert.equal(w.pending, 1);
    w.notify({ type: 'release' });
    assert.equal(await two, 'released');
    assert.equal(w.pending, 0);
  });

  test('a transferred buffer moves to the thread', { timeout: 15_000 }, async () => {
    const w = start();
    const buf = new ArrayBuffer(8);
    assert.equal(await w.request({ op: 'echo', value: 'moved' }, [buf]), 'moved');
    assert.equal(buf.byteLength, 0, 'detached here');
  });
});
