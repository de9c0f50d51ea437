import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createServer, type SightlineServer } from '../../src/server.js';
import type { Session } from '../../src/session/session.js';
import { readPngAsI420 } from '../helpers/images.js';
import { type NodePeer, openNodeSession } from '../helpers/node-peer.js';
import { astronautPng, repoRoot } from '../helpers/paths.js';

const KEY = 'k';
/** The server's default --idle-timeout-ms, and the margin the hardening issue allows. */
const IDLE_MS = 5000;
const MARGIN_MS = 1000;

/** Starts `killable-client.ts` and resolves with its process and the id it prints once it streams. */
async function startClient(args: string[]): Promise<{ proc: ChildProcess; id: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', `${repoRoot}packages/server/test/helpers/killable-client.ts`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /^\{"id":"([^"]+)"\}$/m.exec(out);
    if (m) return { proc, id: m[1]! };
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`the client did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Resolves with the ms from now until `done()` holds (polled every 25 ms), or throws after `ms`. */
async function msUntil(what: string, done: () => boolean, ms: number): Promise<number> {
  const t0 = performance.now();
  while (!done()) {
    if (performance.now() - t0 > ms) throw new Error(`${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return performance.now() - t0;
}

/**
 * A client killed mid-stream (SIGKILL: no DELETE, no close) is freed within the idle timeout (default 5 s) plus 1 s,
 * on every transport: its session ends (`timeout` when the transport cannot tell, `client_closed` when the kernel
 * closes its socket), its slot is free; a killed WHEP viewer is dropped from its session. Before the idle timeout,
 * WebRTC and WHIP took about 17.6 s (ICE consent), WHEP 17.6 s.
 */
describe('a killed client is freed within the idle timeout, on every transport', { timeout: 120_000 }, () => {
  let server: SightlineServer;
  let url: string;
  const procs: ChildProcess[] = [];
  const peers: NodePeer[] = [];
  before(async () => {
    server = await createServer(
      loadConfig(['--workers', '1', '--log-level', 'silent', '--processor', 'stats', '--host', '127.0.0.1', '--port', '0'], { SIGHTLINE_API_KEYS: KEY }),
    );
    url = await server.listen();
  });
  after(async () => {
    for (const p of procs) p.kill('SIGKILL');
    for (const p of peers) p.close();
    await server.close();
  });

  for (const [transport, reasons] of [
    ['webrtc', ['timeout']],
    ['whip', ['timeout']],
    ['ws', ['client_closed', 'timeout']],
  ] as const) {
    test(`${transport}: the session ends within ${IDLE_MS} + ${MARGIN_MS} ms of the kill`, async () => {
      const { proc, id } = await startClient([transport, url, KEY]);
      procs.push(proc);
      const session: Session | undefined = server.sessions.get(id);
      assert.ok(session, `session ${id} is live`);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(session.closed, false, 'a streaming client is not idle');
      assert.ok(session.summary().frames_received > 5, 'frames arrived');
      proc.kill('SIGKILL');
      const ms = await msUntil(`${transport} session end`, () => session.closed, IDLE_MS + MARGIN_MS);
      const reason = session.summary().end_reason;
      assert.ok((reasons as readonly string[]).includes(reason!), `end_reason ${reason}`);
      assert.equal(server.sessions.get(id), undefined, 'its slot is free');
      console.log(`${transport}: freed ${Math.round(ms)} ms after SIGKILL (${reason})`);
    });
  }

  test('whep: a killed viewer is dropped within the idle timeout; the session goes on', async () => {
    const { peer, id } = await openNodeSession(server.app, KEY, peers, { processor: 'stats' });
    peer.startSending(readPngAsI420(astronautPng), 15);
    const session = server.sessions.get(id)!;
    const { proc } = await startClient(['whep', url, KEY, id]);
    procs.push(proc);
    assert.equal(session.viewers, 1);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(session.viewers, 1, 'a viewer sending its receiver reports is not idle');
    proc.kill('SIGKILL');
    const ms = await msUntil('the viewer dropped', () => session.viewers === 0, IDLE_MS + MARGIN_MS);
    assert.equal(session.closed, false, 'the session itself goes on');
    console.log(`whep: viewer dropped ${Math.round(ms)} ms after SIGKILL`);
    peer.stopSending();
  });
});
