import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type OpenStoreOptions, type SessionStart, type SessionStore, type StoredResult, openStore } from '../../src/store/index.js';
import { type TestPostgres, postgresBinDir, startPostgres } from '../helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'sightline-store-'));
let pgServer: TestPostgres | undefined;
let files = 0;
const T0 = 1_700_000_000_000;
const NO_TIMER = { flushIntervalMs: 3_600_000, flushAtRows: 1e9 };

after(async () => {
  await pgServer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A result like the pipeline's: a few boxes, timings. */
function result(frameId: number): Record<string, unknown> {
  return {
    type: 'result',
    frame_id: frameId,
    width: 640,
    height: 480,
    processor: 'face',
    dropped: 0,
    boxes: [0, 1, 2].map((i) => ({ x: 10 + i, y: 20, w: 64.5, h: 80.25, score: 0.9 - i / 10, label: 'face' })),
    timing: { queue_ms: 0.4, inference_ms: 6.2, total_ms: 8.9 },
  };
}

function start(id: string, tenant: string, i: number, extra: Partial<SessionStart> = {}): SessionStart {
  return {
    id,
    tenant,
    keyId: `key-${tenant}`,
    userId: i % 2 === 0 ? 'u1' : 'u2',
    processor: 'face',
    params: { min_score: 0.5 },
    transport: 'webrtc',
    startedAt: T0 + i * 1000,
    ...extra,
  };
}

async function allResults(store: SessionStore, tenant: string, sessionId: string, limit = 500): Promise<StoredResult[]> {
  const out: StoredResult[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.listResults({ tenant, sessionId, limit, ...(after ? { after } : {}) });
    assert.ok(page);
    out.push(...page.results);
    if (!page.next_cursor) return out;
    after = page.next_cursor;
  }
}

const dialects: { name: 'sqlite' | 'postgres'; open: (o?: OpenStoreOptions) => Promise<SessionStore> }[] = [
  { name: 'sqlite', open: (o = {}) => openStore({ ...o, sqlitePath: join(dir, `store-${++files}.db`) }) },
  {
    name: 'postgres',
    open: async (o = {}) => {
      pgServer ??= await startPostgres();
      return openStore({ ...o, databaseUrl: await pgServer.newDatabase() });
    },
  },
];

for (const d of dialects) {
  describe(
    `store (${d.name})`,
    { skip: d.name === 'postgres' && !postgresBinDir() && !process.env.CI ? 'PostgreSQL is not installed (CI installs it and never skips)' : false },
    () => {
      describe('history, results and events', () => {
        let store: SessionStore;
        before(async () => {
          store = await d.open(NO_TIMER);
          // 25 sessions of tenant A (the last five started in the same millisecond), 3 of tenant B.
          for (let i = 0; i < 25; i++)
            store.recordSessionStart(start(`a-${String(i).padStart(2, '0')}`, 'A', Math.min(i, 20), { userId: i % 2 === 0 ? 'u1' : 'u2' }));
          for (let i = 0; i < 3; i++) store.recordSessionStart(start(`b-${i}`, 'B', i));
          store.recordParamsChange('a-00', { processor: 'face', params: { min_score: 0.7 }, at: T0 + 10 });
          store.recordParamsChange('a-00', { processor: 'detect', params: { model: 'yolo', classes: ['person'] }, at: T0 + 20 });
          for (let f = 0; f < 30; f++) store.recordResult('a-00', f % 2 ? result(f) : JSON.stringify(result(f)), T0 + 100 + f);
          store.recordEvent('a-00', { type: 'vad', at: T0 + 50, data: { speech: true } });
          store.recordEvent('a-00', { type: 'error', at: T0 + 60, data: 'processor failed' });
          store.recordEvent('a-00', { type: 'vad', at: T0 + 70 });
          store.recordResult('b-0', result(0), T0);
          store.recordSessionEnd('a-00', {
            endedAt: T0 + 5000,
            endReason: 'client_closed',
            framesReceived: 40,
            framesProcessed: 30,
            framesDropped: 10,
            resultsSent: 30,
            resultsUndelivered: 1,
            rttP50: 12.5,
            rttP95: 30.25,
            inferenceMsP50: 6,
            inferenceMsP95: 9.5,
          });
          assert.equal(store.stats().written, 0, 'nothing is written before a flush');
          await store.flush();
        });
        after(() => store.close());

        test('stats count what was written', () => {
          const s = store.stats();
          // 28 starts + 2 params + 31 results + 3 events + 1 end
          assert.deepEqual(
            { written: s.written, dropped: s.dropped, orphaned: s.orphaned, pending: s.pending, errors: s.errors },
            { written: 65, dropped: 0, orphaned: 0, pending: 0, errors: 0 },
          );
          assert.equal(s.flushes, 1);
        });

        test('listSessions pages newest first without duplicates', async () => {
          const pages: string[][] = [];
          let cursor: string | undefined;
          do {
            const page = await store.listSessions({ tenant: 'A', limit: 10, ...(cursor ? { cursor } : {}) });
            pages.push(page.sessions.map((s) => s.session_id));
            cursor = page.next_cursor ?? undefined;
          } while (cursor);
          assert.deepEqual(
            pages.map((p) => p.length),
            [10, 10, 5],
          );
          const ids = pages.flat();
          assert.equal(new Set(ids).size, 25);
          // started_at desc, then id desc among equal starts
          const expected = Array.from({ length: 25 }, (_, i) => `a-${String(i).padStart(2, '0')}`).reverse();
          assert.deepEqual(ids, expected);
        });

        test('listSessions filters by user and time', async () => {
          const u1 = await store.listSessions({ tenant: 'A', userId: 'u1', limit: 100 });
          assert.equal(u1.sessions.length, 13);
          assert.ok(u1.sessions.every((s) => s.user_id === 'u1'));
          assert.equal(u1.next_cursor, null);
          const window = await store.listSessions({ tenant: 'A', from: T0 + 5000, to: T0 + 10_000, limit: 100 });
          assert.deepEqual(
            window.sessions.map((s) => s.session_id),
            ['a-09', 'a-08', 'a-07', 'a-06', 'a-05'],
          );
          const both = await store.listSessions({ tenant: 'A', userId: 'u2', from: T0 + 5000, to: T0 + 10_000, limit: 2 });
          assert.deepEqual(
            both.sessions.map((s) => s.session_id),
            ['a-09', 'a-07'],
          );
          const rest = await store.listSessions({ tenant: 'A', userId: 'u2', from: T0 + 5000, to: T0 + 10_000, limit: 2, cursor: both.next_cursor! });
          assert.deepEqual(
            rest.sessions.map((s) => s.session_id),
            ['a-05'],
          );
          assert.equal(rest.next_cursor, null);
        });

        test('getSession has the params history and the end', async () => {
          const s = await store.getSession('A', 'a-00');
          assert.ok(s);
          assert.equal(s.processor, 'detect');
          assert.deepEqual(s.params, { model: 'yolo', classes: ['person'] });
          assert.deepEqual(s.params_history, [
            { processor: 'face', params: { min_score: 0.5 }, at: T0 },
            { processor: 'face', params: { min_score: 0.7 }, at: T0 + 10 },
            { processor: 'detect', params: { model: 'yolo', classes: ['person'] }, at: T0 + 20 },
          ]);
          assert.deepEqual(
            { ...s, params_history: undefined, params: undefined },
            {
              session_id: 'a-00',
              tenant: 'A',
              key_id: 'key-A',
              user_id: 'u1',
              processor: 'detect',
              transport: 'webrtc',
              started_at: T0,
              ended_at: T0 + 5000,
              end_reason: 'client_closed',
              frames_received: 40,
              frames_processed: 30,
              frames_dropped: 10,
              frames_rejected: null,
              results_sent: 30,
              results_undelivered: 1,
              rtt_p50: 12.5,
              rtt_p95: 30.25,
              inference_ms_p50: 6,
              inference_ms_p95: 9.5,
              params_history: undefined,
              params: undefined,
            },
          );
          const live = await store.getSession('A', 'a-01');
          assert.equal(live?.ended_at, null);
          assert.equal(live?.frames_received, null);
        });

        test('listResults pages through in frame order', async () => {
          const rs = await allResults(store, 'A', 'a-00', 7);
          assert.deepEqual(
            rs.map((r) => r.frame_id),
            Array.from({ length: 30 }, (_, i) => i),
          );
          assert.deepEqual(rs[3]!.result, result(3));
          assert.deepEqual(rs[4]!.result, result(4));
          assert.equal(rs[5]!.at, T0 + 105);
          const none = await store.listResults({ tenant: 'A', sessionId: 'a-01', limit: 10 });
          assert.deepEqual(none, { results: [], next_cursor: null });
        });

        test('listEvents in recorded order', async () => {
          const ev = await store.listEvents({ tenant: 'A', sessionId: 'a-00', limit: 2 });
          assert.ok(ev);
          assert.deepEqual(
            ev.events.map((e) => [e.type, e.at, e.data]),
            [
              ['vad', T0 + 50, { speech: true }],
              ['error', T0 + 60, 'processor failed'],
            ],
          );
          const rest = await store.listEvents({ tenant: 'A', sessionId: 'a-00', limit: 2, after: ev.next_cursor! });
          assert.deepEqual(
            rest?.events.map((e) => [e.type, e.data]),
            [['vad', null]],
          );
          assert.equal(rest?.next_cursor, null);
        });

        test('another tenant sees nothing', async () => {
          assert.equal(await store.getSession('B', 'a-00'), null);
          assert.equal(await store.listResults({ tenant: 'B', sessionId: 'a-00', limit: 10 }), null);
          assert.equal(await store.listEvents({ tenant: 'B', sessionId: 'a-00', limit: 10 }), null);
          const b = await store.listSessions({ tenant: 'B', limit: 100 });
          assert.deepEqual(
            b.sessions.map((s) => s.session_id),
            ['b-2', 'b-1', 'b-0'],
          );
          assert.deepEqual((await store.listSessions({ tenant: 'C', limit: 10 })).sessions, []);
        });

        test('a malformed cursor is an InvalidCursorError', async () => {
          await assert.rejects(store.listSessions({ tenant: 'A', limit: 10, cursor: 'nonsense' }), { name: 'InvalidCursorError' });
          await assert.rejects(store.listResults({ tenant: 'A', sessionId: 'a-00', limit: 10, after: '1; drop table' }), { name: 'InvalidCursorError' });
        });
      });

      test('rows of an unknown session are skipped and counted, a bad row is dropped alone', async () => {
        const store = await d.open(NO_TIMER);
        store.recordSessionStart(start('s', 'A', 0));
        store.recordResult('ghost', result(0), T0);
        store.recordSessionStart({ ...start('bad', 'A', 1), processor: null as unknown as string }); // NOT NULL: refused by the database
        store.recordResult('s', result(0), T0);
        store.recordResult('s', { type: 'result', frame_id: 1, text: 'nul \u0000 inside' }, T0);
        store.recordSessionEnd('ghost', { endedAt: T0, endReason: 'x', framesReceived: 0, framesProcessed: 0, framesDropped: 0, resultsSent: 0 });
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        store.recordResult('s', cyclic, T0);
        await store.flush();
        const st = store.stats();
        assert.equal(st.orphaned, 2);
        assert.equal(st.dropped, 2, 'the bad start and the unserialisable result');
        assert.equal(st.pending, 0);
        assert.ok(st.errors >= 1);
        assert.deepEqual(
          (await allResults(store, 'A', 's')).map((r) => r.frame_id),
          [0, 1],
        );
        assert.equal(await store.getSession('A', 'bad'), null);
        await store.close();
      });

      test('10k results: O(1) calls, one transaction per flush, stats', async () => {
        const store = await d.open({ ...NO_TIMER, maxBatchRows: 20_000 });
        store.recordSessionStart(start('big', 'A', 0));
        const msgs = Array.from({ length: 10_000 }, (_, i) => JSON.stringify(result(i)));
        const t0 = performance.now();
        for (let i = 0; i < msgs.length; i++) store.recordResult('big', msgs[i]!, T0 + i);
        const callMs = performance.now() - t0;
        // Speed is the bench's business (printed below); what holds here: recording touched no database.
        assert.equal(store.stats().pending, 10_001);
        assert.equal(store.stats().written, 0);
        const f0 = performance.now();
        await store.flush();
        const flushMs = performance.now() - f0;
        const st = store.stats();
        assert.deepEqual(
          { written: st.written, flushes: st.flushes, pending: st.pending, dropped: st.dropped },
          { written: 10_001, flushes: 1, pending: 0, dropped: 0 },
        );
        console.log(
          `[${d.name}] record: ${((callMs * 1000) / 10_000).toFixed(2)} µs/call; flush of 10k results in one transaction: ${flushMs.toFixed(1)} ms (${Math.round(10_000 / (flushMs / 1000))} rows/s)`,
        );
        assert.equal((await allResults(store, 'A', 'big', 1000)).length, 10_000);
        await store.close();
      });

      test('flush cost per 1000 results (default chunks), and the early flush at flushAtRows', async () => {
        const chunks: { rows: number; ms: number }[] = [];
        const store = await d.open({ flushIntervalMs: 3_600_000, flushAtRows: 5000, onFlush: ({ rows, ms }) => chunks.push({ rows, ms }) });
        store.recordSessionStart(start('m', 'A', 0));
        await store.flush();
        chunks.length = 0;
        for (let i = 0; i < 20_000; i++) store.recordResult('m', result(i), T0 + i); // objects: serialised when recorded
        // 5000 rows waiting start a drain on the next turn, without any flush() call or timer.
        const deadline = Date.now() + 20_000;
        while (store.stats().pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        assert.equal(store.stats().pending, 0);
        assert.equal(chunks.length, d.name === 'sqlite' ? 20 : 4, 'chunks of maxBatchRows (1000 SQLite, 5000 Postgres)');
        const rows = chunks.reduce((a, c) => a + c.rows, 0);
        const ms = chunks.reduce((a, c) => a + c.ms, 0);
        const worst = Math.max(...chunks.map((c) => c.ms));
        console.log(
          `[${d.name}] ${rows} results in ${chunks.length} chunks: ${((ms / rows) * 1000).toFixed(2)} ms per 1000, ${Math.round(rows / (ms / 1000))} rows/s, longest chunk ${worst.toFixed(1)} ms`,
        );
        await store.close();
      });

      test('the buffer is bounded: results beyond it are dropped and counted, session rows kept', async () => {
        const store = await d.open({ ...NO_TIMER, maxPending: 1000 });
        store.recordSessionStart(start('bounded', 'A', 0));
        for (let i = 0; i < 1500; i++) store.recordResult('bounded', result(i), T0 + i);
        store.recordSessionEnd('bounded', {
          endedAt: T0 + 9,
          endReason: 'deleted',
          framesReceived: 1500,
          framesProcessed: 1500,
          framesDropped: 0,
          resultsSent: 1500,
        });
        assert.deepEqual({ pending: store.stats().pending, dropped: store.stats().dropped }, { pending: 1001, dropped: 501 });
        await store.flush();
        assert.equal(store.stats().written, 1001);
        assert.equal((await allResults(store, 'A', 'bounded')).length, 999);
        assert.equal((await store.getSession('A', 'bounded'))?.end_reason, 'deleted');
        await store.close();
        store.recordResult('bounded', result(0), T0); // after close: counted, not thrown
        assert.equal(store.stats().dropped, 502);
      });

      test('retention deletes old results/events, ended sessions, and abandoned ones', async () => {
        const store = await d.open(NO_TIMER);
        const NOW = T0 + 100 * 86_400_000;
        const DAY = 86_400_000;
        store.recordSessionStart(start('old-ended', 'A', 0));
        store.recordResult('old-ended', result(0), T0 + 1);
        store.recordSessionEnd('old-ended', { endedAt: T0 + 2, endReason: 'deleted', framesReceived: 1, framesProcessed: 1, framesDropped: 0, resultsSent: 1 });
        store.recordSessionStart(start('abandoned', 'A', 0)); // a crashed server's session: never ended
        store.recordSessionStart(start('live', 'A', 0));
        store.recordResult('live', result(0), T0 + 5);
        store.recordEvent('live', { type: 'vad', at: T0 + 5 });
        store.recordResult('live', result(1), NOW - DAY);
        store.recordSessionStart(start('recent', 'A', 0, { startedAt: NOW - DAY }));
        store.recordSessionEnd('recent', {
          endedAt: NOW - DAY + 1,
          endReason: 'deleted',
          framesReceived: 0,
          framesProcessed: 0,
          framesDropped: 0,
          resultsSent: 0,
        });
        await store.flush();
        const r = await store.applyRetention(7 * DAY, NOW);
        assert.deepEqual(r, { sessions: 2, results: 2, events: 1 });
        const left = await store.listSessions({ tenant: 'A', limit: 10 });
        assert.deepEqual(left.sessions.map((s) => s.session_id).sort(), ['live', 'recent']);
        assert.deepEqual(
          (await allResults(store, 'A', 'live')).map((x) => x.frame_id),
          [1],
        );
        await store.close();
      });

      test("closeCrashedSessions: only this node's open sessions, as server_crash, ended at their last result or event", async () => {
        const store = await d.open({ ...NO_TIMER, nodeId: 'node-a' });
        store.recordSessionStart(start('crashed', 'A', 0));
        store.recordResult('crashed', result(0), T0 + 10);
        store.recordEvent('crashed', { type: 'vad', at: T0 + 40 });
        store.recordResult('crashed', result(1), T0 + 30);
        store.recordSessionStart(start('crashed-quiet', 'A', 1)); // nothing recorded: ends at its start
        store.recordSessionStart(start('ended', 'A', 2));
        store.recordSessionEnd('ended', { endedAt: T0 + 9000, endReason: 'deleted', framesReceived: 0, framesProcessed: 0, framesDropped: 0, resultsSent: 0 });
        await store.flush();
        assert.equal(await store.closeCrashedSessions('node-b'), 0, "another server's open sessions are not this one's to close");
        assert.equal((await store.getSession('A', 'crashed'))!.ended_at, null);
        assert.equal(await store.closeCrashedSessions('node-a'), 2);
        const crashed = (await store.getSession('A', 'crashed'))!;
        assert.equal(crashed.end_reason, 'server_crash');
        assert.equal(crashed.ended_at, T0 + 40);
        const quiet = (await store.getSession('A', 'crashed-quiet'))!;
        assert.deepEqual([quiet.end_reason, quiet.ended_at], ['server_crash', T0 + 1000]);
        const ended = (await store.getSession('A', 'ended'))!;
        assert.deepEqual([ended.end_reason, ended.ended_at], ['deleted', T0 + 9000]);
        assert.equal(await store.closeCrashedSessions('node-a'), 0, 'idempotent');
        await store.close();
      });

      if (d.name === 'postgres') {
        test('postgres down during a flush: error counted, rows kept and written when it is back', async () => {
          const errors: unknown[] = [];
          const store = await d.open({ ...NO_TIMER, maxPending: 300, onError: (e) => errors.push(e) });
          store.recordSessionStart(start('outage', 'A', 0));
          for (let i = 0; i < 100; i++) store.recordResult('outage', result(i), T0 + i);
          await store.flush();
          assert.equal(store.stats().written, 101);
          await pgServer!.down();
          for (let i = 100; i < 200; i++) store.recordResult('outage', result(i), T0 + i);
          await store.flush();
          await store.flush();
          let st = store.stats();
          assert.equal(st.errors, 2);
          assert.ok(st.lastError);
          assert.equal(st.pending, 100, 'the failed rows stay buffered');
          assert.equal(st.written, 101);
          // Still down: the bound still holds while the rows wait.
          for (let i = 200; i < 450; i++) store.recordResult('outage', result(i), T0 + i);
          st = store.stats();
          assert.deepEqual({ pending: st.pending, dropped: st.dropped }, { pending: 300, dropped: 50 });
          await pgServer!.up();
          await store.flush();
          st = store.stats();
          assert.deepEqual({ pending: st.pending, written: st.written, dropped: st.dropped }, { pending: 0, written: 401, dropped: 50 });
          assert.deepEqual(
            (await allResults(store, 'A', 'outage')).map((x) => x.frame_id),
            Array.from({ length: 400 }, (_, i) => i),
          );
          assert.ok(errors.length >= 2);
          await store.close();
        });
      }
    },
  );
}
