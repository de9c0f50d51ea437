import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { createServer, type SightlineServer } from '../../src/server.js';

const KEY = 'race-key';
const CLIENTS = 50;

/** Child processes of this one named `ffmpeg` (a recording's muxer), from /proc. */
function ffmpegChildren(): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces, so read after the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === 'ffmpeg' && ppid === process.pid) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

/**
 * A WebSocket client that closes while its session is still starting (with `record=1`, the recorder's start is
 * awaited) must not leave the session behind: every such session ends, its slot is freed, and SIGTERM-style close
 * does not wait on it.
 */
describe('the WebSocket bridge: a client gone during the session start leaves no session', () => {
  let server: SightlineServer;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'sightline-race-'));
  before(async () => {
    server = await createServer(
      loadConfig(['--workers', '1', '--log-level', 'silent', '--record-dir', dir, '--port', '0', '--host', '127.0.0.1'], { SIGHTLINE_API_KEYS: KEY }),
    );
    url = (await server.listen()).replace(/^http/, 'ws');
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const how of ['header key', 'hello message'] as const) {
    test(`${how}, record=1: ${CLIENTS} clients that close at once → 0 sessions, 0 ffmpeg processes`, async () => {
      for (let i = 0; i < CLIENTS; i++) {
        const ws =
          how === 'header key'
            ? new WebSocket(`${url}/ws?processor=stats&record=1`, { headers: { 'api-key': KEY } })
            : new WebSocket(`${url}/ws?processor=stats`);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => {
            if (how === 'hello message') ws.send(JSON.stringify({ type: 'hello', api_key: KEY, record: true }));
            // Gone before the session could answer `ready`.
            ws.terminate();
            resolve();
          });
          ws.once('error', reject);
        });
      }
      const deadline = Date.now() + 10_000;
      while ((server.sessions.size > 0 || ffmpegChildren() > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(server.sessions.size, 0, `${server.sessions.size} sessions left behind`);
      assert.equal(ffmpegChildren(), 0, 'recorders of the sessions that never started are gone');
    });
  }
});
