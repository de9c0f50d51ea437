/**
 * RedisFleet against a real redis-server: per-key slots across nodes, leases that expire when a node stops renewing
 * them, the session directory, the node list, and a clear refusal while Redis is away.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisFleet } from '../../src/cluster/redis-fleet.js';
import { FleetUnavailableError, type NodeReport } from '../../src/cluster/fleet.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const report =
  (sessions = 0): (() => NodeReport) =>
  () => ({ ready: true, draining: false, sessions, maxSessions: 4, inferenceWaitMs: 1.25 });

describe('RedisFleet (real Redis)', () => {
  let redis: TestRedis;
  const open: RedisFleet[] = [];
  const node = async (nodeId: string, leaseMs = 10_000): Promise<RedisFleet> => {
    const f = await RedisFleet.open({ url: redis.url, nodeId, advertiseUrl: `http://${nodeId}.test:8080`, leaseMs, heartbeatMs: 200, report: report(1) });
    open.push(f);
    return f;
  };
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await Promise.allSettled(open.map((f) => f.close()));
    await redis.stop();
  });

  test("a key's max_sessions holds across nodes; a released slot is free again", async () => {
    const [a, b] = [await node('a1'), await node('b1')];
    assert.equal(await a.admit('key1', 's1', 2), true);
    assert.equal(await b.admit('key1', 's2', 2), true);
    assert.equal(await b.admit('key1', 's3', 2), false, 'the third session of a key limited to 2 is refused on another node');
    assert.equal(await a.admit('key2', 's4', 2), true, 'other keys are not affected');
    assert.deepEqual(await b.sessionCounts('key1'), { all: 3, key: 2 });
    a.release('key1', 's1');
    await sleep(50);
    assert.equal(await b.admit('key1', 's3', 2), true);
    for (const [f, k, s] of [
      [b, 'key1', 's2'],
      [b, 'key1', 's3'],
      [a, 'key2', 's4'],
    ] as const)
      f.release(k, s);
  });

  test('the directory names the node holding a session, for the other nodes only', async () => {
    const [a, b] = [await node('a2'), await node('b2')];
    await a.admit('k', 'sess-dir', undefined);
    assert.deepEqual(await b.ownerOf('sess-dir'), { nodeId: 'a2', url: 'http://a2.test:8080' });
    assert.equal(await a.ownerOf('sess-dir'), undefined, 'a node does not forward to itself');
    assert.equal(await b.ownerOf('no-such-session'), undefined);
    a.release('k', 'sess-dir');
    await sleep(50);
    // Ended: still named, so that a DELETE reaching b gets a2's final counters; gone with its node.
    assert.deepEqual(await b.ownerOf('sess-dir'), { nodeId: 'a2', url: 'http://a2.test:8080' });
    await a.close();
    assert.equal(await b.ownerOf('sess-dir'), undefined);
  });

  test('nodes list themselves with their load; a closed node leaves the list', async () => {
    const [a, b] = [await node('a3'), await node('b3')];
    await sleep(300);
    const ids = (await b.nodes()).map((n) => n.node_id);
    assert.ok(ids.includes('a3') && ids.includes('b3'), ids.join());
    const a3 = (await b.nodes()).find((n) => n.node_id === 'a3')!;
    assert.equal(a3.url, 'http://a3.test:8080');
    assert.equal(a3.sessions, 1);
    assert.equal(a3.inference_wait_ms, 1.3);
    assert.ok(a3.seen_ms_ago < 1000);
    await a.close();
    assert.ok(!(await b.nodes()).some((n) => n.node_id === 'a3'));
  });

  test("a node that stops renewing (died) gives its keys' slots back once its leases expire", async () => {
    const dying = await node('dying', 1000);
    const other = await node('other4', 1000);
    assert.equal(await dying.admit('key5', 'd1', 1), true);
    // Renewed while it lives: still held after more than a lease.
    await sleep(1500);
    assert.equal(await other.admit('key5', 'o1', 1), false);
    // It stops (no release of its sessions: a crash leaves them).
    await dying.close();
    // Until its lease expires the session's owner is still named, report or not: forwarding finds out (a retryable
    // 503 when it is gone), rather than a 404 for a session that may be live on a node whose report merely lapsed.
    assert.deepEqual(await other.ownerOf('d1'), { nodeId: 'dying', url: 'http://dying.test:8080' });
    const t0 = Date.now();
    while (!(await other.admit('key5', 'o1', 1))) {
      assert.ok(Date.now() - t0 < 3000, "the dead node's slot came back within a lease (+ margin)");
      await sleep(100);
    }
    assert.equal(await other.ownerOf('d1'), undefined, 'its sessions are gone from the directory too');
    other.release('key5', 'o1');
  });

  test('while Redis is away, admit fails with a clear 503 error and the node keeps running; it recovers', async () => {
    const f = await node('a6');
    await redis.down();
    await assert.rejects(f.admit('key6', 'x', 1), (err: unknown) => {
      assert.ok(err instanceof FleetUnavailableError);
      assert.equal(err.status, 503);
      assert.match(err.message, /Redis/);
      return true;
    });
    await redis.up();
    const t0 = Date.now();
    for (;;) {
      const ok = await f.admit('key6', 'x', 1).catch(() => false);
      if (ok) break;
      assert.ok(Date.now() - t0 < 10_000, 'reconnected within 10 s');
      await sleep(200);
    }
    f.release('key6', 'x');
  });
});
