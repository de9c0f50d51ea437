import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NodeClient, type NodeResult } from '@sightline/node';
import { postgresBinDir, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const KEY = 'outage-key';
const W = 320;
const H = 240;
const frame = { width: W, height: H, data: new Uint8Array(W * H * 1.5).fill(128).fill(90, 0, W * H) };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function metric(server: ServerProcess, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(new RegExp(`^${name} ([\\d.e+]+)$`, 'm').exec(text)?.[1] ?? NaN);
}

/**
 * The database goes away in the middle of a session (PostgreSQL stopped, connections cut) and comes back: the
 * client's results keep coming the whole time, the server stays healthy, the failed flushes are counted in /metrics
 * with the rows kept buffered (bounded), and once the database is back every result the client got is stored.
 */
describe(
  'the history database down mid-session',
  { timeout: 180_000, skip: !postgresBinDir() && !process.env.CI ? 'PostgreSQL is not installed (CI installs it and never skips)' : false },
  () => {
    let pg: TestPostgres;
    let server: ServerProcess;
    before(async () => {
      pg = await startPostgres();
      server = await startServerProcess(['--workers', '1', '--processor', 'stats', '--db-flush-interval-ms', '200', '--idle-timeout-ms', '0'], {
        SIGHTLINE_API_KEYS: KEY,
        DATABASE_URL: await pg.newDatabase(),
        SIGHTLINE_LOG_LEVEL: 'warn',
      });
    });
    after(async () => {
      await server?.stop();
      await pg?.stop();
    });

    test('results flow throughout, flush errors are counted, writes resume, nothing the client got is lost', async () => {
      const client = await NodeClient.connect({ url: server.url, apiKey: KEY, processor: 'stats' });
      const got: NodeResult[] = [];
      client.onResult = (r) => got.push(r);
      const sender = setInterval(() => client.send(frame), 66);
      try {
        await sleep(1500);
        assert.ok(got.length > 5, `${got.length} results before the outage`);
        assert.equal(await metric(server, 'sightline_history_flush_errors_total'), 0);

        await pg.down();
        const atOutage = got.length;
        await sleep(3000);
        assert.ok(got.length > atOutage + 20, `results during the outage: ${got.length - atOutage}`);
        assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the server is healthy');
        assert.ok((await metric(server, 'sightline_history_flush_errors_total')) > 0, 'failed flushes are counted');
        assert.ok((await metric(server, 'sightline_history_rows_pending')) > 20, 'the rows wait in the buffer');

        await pg.up();
        const deadline = Date.now() + 20_000;
        while ((await metric(server, 'sightline_history_rows_pending')) > 0 && Date.now() < deadline) await sleep(200);
        assert.equal(await metric(server, 'sightline_history_rows_dropped_total'), 0, 'nothing dropped: the buffer held it all');
      } finally {
        clearInterval(sender);
      }
      await client.close();
      await sleep(600); // one flush interval and more: the session's end and last results are written
      const stored = new Set<number>();
      let cursor: string | null = null;
      do {
        const res = await fetch(`${server.url}/v1/sessions/${client.sessionId}/results?limit=1000${cursor ? `&after=${cursor}` : ''}`, {
          headers: { 'api-key': KEY },
        });
        assert.equal(res.status, 200);
        const page = (await res.json()) as { results: Array<{ frame_id: number }>; next_cursor: string | null };
        for (const r of page.results) stored.add(r.frame_id);
        cursor = page.next_cursor;
      } while (cursor);
      const missing = got.map((r) => r.message.frame_id).filter((id) => !stored.has(id));
      assert.deepEqual(missing, [], `${got.length} results received, ${stored.size} stored`);
    });
  },
);
