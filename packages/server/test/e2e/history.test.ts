import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import parsePrometheus from 'parse-prometheus-text-format';
import { readPngAsI420 } from '../helpers/images.js';
import { NodePeer } from '../helpers/node-peer.js';
import { astronautPng, repoRoot } from '../helpers/paths.js';
import { postgresBinDir, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'sightline-history-'));
const keysFile = join(dir, 'keys.yaml');
writeFileSync(keysFile, 'keys:\n  - key: key-a\n    tenant: a\n  - key: key-a2\n    tenant: a\n  - key: key-b\n    tenant: b\n');

const get = async (server: ServerProcess, path: string, key = 'key-a', accept = 'application/json') => {
  const r = await fetch(`${server.url}${path}`, { headers: { 'api-key': key, accept } });
  return { status: r.status, text: await r.text() };
};
const json = async (server: ServerProcess, path: string, key = 'key-a') => {
  const r = await get(server, path, key);
  assert.equal(r.status, 200, r.text);
  return JSON.parse(r.text) as Record<string, any>;
};

/** Opens a session as `userId` over real WebRTC and streams the astronaut at 15 fps. */
async function stream(server: ServerProcess, peers: NodePeer[], userId: string): Promise<{ peer: NodePeer; id: string }> {
  const peer = new NodePeer();
  peers.push(peer);
  const r = await fetch(`${server.url}/webrtc/offer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'api-key': 'key-a' },
    body: JSON.stringify({ sdp: await peer.offer(), type: 'offer', user_id: userId, processor: 'face' }),
  });
  const body = (await r.json()) as { sdp: string; session_id: string };
  await peer.accept(body.sdp);
  await peer.channelOpen();
  peer.startSending(readPngAsI420(astronautPng), 15);
  return { peer, id: body.session_id };
}

describe('session history and metrics through the real server', { timeout: 180_000 }, () => {
  const peers: NodePeer[] = [];
  // Peers are closed while their server is still up, so that each session ends as a client's close.
  const closePeers = () => {
    for (const p of peers.splice(0)) p.close();
  };
  let pgServer: TestPostgres | undefined;
  before(async () => {
    if (postgresBinDir() || process.env.CI) pgServer = await startPostgres();
  });
  after(async () => {
    for (const p of peers) p.close();
    await pgServer?.stop();
  });

  for (const db of ['sqlite', 'postgres'] as const) {
    test(`${db}: a session's results are queryable by user_id after it ends, scoped to the tenant; /metrics matches`, async (t) => {
      if (db === 'postgres' && !pgServer) return t.skip('PostgreSQL is not installed (CI installs it and never skips)');
      const env: Record<string, string> = db === 'postgres' ? { DATABASE_URL: await pgServer!.newDatabase() } : { SIGHTLINE_DB: join(dir, 'q.db') };
      const server = await startServerProcess(['--keys-file', keysFile, '--db-flush-interval-ms', '200'], env);
      try {
        const { peer, id } = await stream(server, peers, 'alice');
        await sleep(2500);
        peer.stopSending();
        await sleep(300);
        const del = await fetch(`${server.url}/webrtc/sessions/${id}`, { method: 'DELETE', headers: { 'api-key': 'key-a' } });
        const summary = (await del.json()) as Record<string, number>;
        const received = peer.messages.filter((m) => m.type === 'result');
        assert.ok(received.length >= 15);
        await sleep(600); // one flush interval and a bit

        const list = await json(server, '/v1/sessions?user_id=alice');
        assert.equal(list.sessions.length, 1);
        const s = list.sessions[0];
        assert.equal(s.session_id, id);
        assert.equal(s.end_reason, 'deleted');
        assert.equal(s.frames_processed, summary.frames_processed);
        assert.equal(s.frames_received, summary.frames_received);
        assert.ok(s.inference_ms_p50 > 0);
        assert.equal((await json(server, '/v1/sessions?user_id=bob')).sessions.length, 0);
        // Same tenant, another key: sees it. Another tenant: does not.
        assert.equal((await json(server, '/v1/sessions', 'key-a2')).sessions.length, 1);
        assert.equal((await json(server, '/v1/sessions', 'key-b')).sessions.length, 0);
        assert.equal((await get(server, `/v1/sessions/${id}`, 'key-b')).status, 404);
        const detail = await json(server, `/v1/sessions/${id}`);
        assert.equal(detail.params_history[0].processor, 'face');

        // Every result, paged, in frame order; the same as NDJSON.
        const stored: number[] = [];
        let cursor: string | null = null;
        do {
          const page: Record<string, any> = await json(server, `/v1/sessions/${id}/results?limit=7${cursor ? `&after=${cursor}` : ''}`);
          stored.push(...page.results.map((r: { frame_id: number }) => r.frame_id));
          cursor = page.next_cursor;
        } while (cursor);
        assert.deepEqual(
          stored,
          received.map((m) => m.frame_id),
        );
        const nd = await get(server, `/v1/sessions/${id}/results?limit=5`, 'key-a', 'application/x-ndjson');
        assert.equal(nd.text.trim().split('\n').length, received.length);
        assert.equal((await get(server, '/v1/sessions?cursor=%%%')).status, 400);

        // Prometheus text, parsed: counters equal what the session did.
        const metrics = parsePrometheus(await (await fetch(`${server.url}/metrics`)).text()) as Array<{
          name: string;
          metrics: Array<{ value?: string; labels?: Record<string, string>; count?: string }>;
        }>;
        const value = (name: string, labels: Record<string, string> = {}) =>
          metrics
            .find((m) => m.name === name)
            ?.metrics.filter((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v))
            .reduce((a, x) => a + Number(x.value ?? x.count ?? 0), 0);
        assert.equal(value('sightline_frames_processed_total', { processor: 'face' }), summary.frames_processed);
        assert.equal(value('sightline_frames_received_total', { processor: 'face' }), summary.frames_received);
        assert.equal(value('sightline_sessions_total', { transport: 'webrtc', end_reason: 'deleted' }), 1);
        assert.equal(value('sightline_sessions_active', { transport: 'webrtc' }), 0);
      } finally {
        closePeers();
        await server.stop();
      }
    });
  }

  test('kill -9 mid-stream: after a restart everything up to the last flush is there, the session is closed as server_crash, and the database is consistent', async () => {
    const file = join(dir, 'crash.db');
    const args = ['--keys-file', keysFile, '--db-flush-interval-ms', '200', '--log-level', 'debug'];
    const first = await startServerProcess(args, { SIGHTLINE_DB: file });
    const { peer, id } = await stream(first, peers, 'carol');
    await sleep(3000);
    peer.stopSending();
    const flushed = [...first.output().matchAll(/"written":(\d+).*"msg":"history flushed"/g)].map((m) => Number(m[1]));
    const lastWritten = flushed.at(-1) ?? 0;
    closePeers();
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('exit', r));
    assert.ok(lastWritten > 10, `last flush wrote ${lastWritten} rows`);

    const second = await startServerProcess(['--keys-file', keysFile], { SIGHTLINE_DB: file });
    try {
      const list = await json(second, '/v1/sessions?user_id=carol');
      assert.equal(list.sessions.length, 1);
      let results = 0;
      let lastAt = 0;
      let cursor: string | null = null;
      do {
        const page: Record<string, any> = await json(second, `/v1/sessions/${id}/results?limit=1000${cursor ? `&after=${cursor}` : ''}`);
        results += page.results.length;
        for (const r of page.results as Array<{ at: number }>) lastAt = Math.max(lastAt, r.at);
        cursor = page.next_cursor;
      } while (cursor);
      // The restarted server closed what it left open: ended at its last stored result, as server_crash.
      assert.equal(list.sessions[0].end_reason, 'server_crash');
      assert.equal(list.sessions[0].ended_at, lastAt);
      assert.match(second.output(), /sessions left open by a crash closed as server_crash/);
      // Rows written: the session, its first params and its results (no events here).
      assert.ok(results + 2 >= lastWritten, `${results} results stored, the last flush reported ${lastWritten} rows`);
    } finally {
      await second.stop();
    }
    // In a child process of its own: the database is read as another program would, with the server gone.
    const check = execFileSync(
      process.execPath,
      [
        '-e',
        `const db = require('better-sqlite3')(process.argv[1], { readonly: true });
         console.log(JSON.stringify({ integrity: db.pragma('integrity_check', { simple: true }),
           orphans: db.prepare('SELECT count(*) AS n FROM results WHERE session_id NOT IN (SELECT id FROM sessions)').get().n }));`,
        file,
      ],
      { encoding: 'utf8', cwd: repoRoot },
    );
    assert.deepEqual(JSON.parse(check), { integrity: 'ok', orphans: 0 });
  });
});
