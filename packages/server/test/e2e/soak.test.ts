import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { newTally, sampleServer, SOAK_TRANSPORTS, soakMedia, startWhepHost, tallied, type SoakContext, type ServerSample } from '../helpers/soak.js';

const KEY = 'soak-key';
const SESSIONS = 300;
const WARMUP = 12;

/**
 * The short soak of the hardening issue: 300 sequential sessions, WebRTC, WHIP, WHEP and WebSocket in turn, against
 * the built server; afterwards its threads and file descriptors are back within +10 % of where they were after a
 * warm-up (no forced GC: native resources are freed when a session ends, not when V8 collects). Before that fix the
 * server held ~4 threads and 7–8 fds per ended session. `npm run soak` is the long one.
 */
describe(`short soak: ${SESSIONS} sequential sessions over every transport`, { timeout: 600_000 }, () => {
  let server: ServerProcess;
  let ctx: SoakContext;
  let host: Awaited<ReturnType<typeof startWhepHost>>;
  before(async () => {
    server = await startServerProcess(['--workers', '1', '--processor', 'stats', '--max-sessions', '64'], {
      SIGHTLINE_API_KEYS: KEY,
      SIGHTLINE_LOG_LEVEL: 'warn',
    });
    const media = await soakMedia();
    host = await startWhepHost(server.url, KEY, media.frame);
    ctx = { url: server.url, key: KEY, hostSessionId: host.id, ...media };
  });
  after(async () => {
    await host?.stop();
    await server?.stop();
  });

  test('every session works, and threads and fds come back within +10 %', async () => {
    const pid = server.proc.pid!;
    // Warm-up: the first sessions start what stays (codec libraries, thread pools).
    const warm = newTally();
    for (let i = 0; i < WARMUP; i++) await tallied(SOAK_TRANSPORTS[i % 4]!, ctx, warm);
    assert.equal(warm.failed, 0, JSON.stringify([...warm.errors]));
    const before: ServerSample = await sampleServer(pid, server.url);
    const tally = newTally();
    let peak = before;
    for (let i = 0; i < SESSIONS; i++) {
      await tallied(SOAK_TRANSPORTS[i % 4]!, ctx, tally);
      if (i % 50 === 49) {
        const s = await sampleServer(pid, server.url);
        if (s.fds > peak.fds) peak = s;
      }
    }
    // Sessions end on DELETE at once; give the native side its close callbacks.
    const deadline = Date.now() + 10_000;
    let afterSample = await sampleServer(pid, server.url);
    while (
      (afterSample.sessions > before.sessions || afterSample.fds > before.fds * 1.1 || afterSample.threads > before.threads * 1.1) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 250));
      afterSample = await sampleServer(pid, server.url);
    }
    console.log(
      `short soak: ${tally.ok} ok, ${tally.failed} failed; before ${JSON.stringify(before)}; peak ${JSON.stringify(peak)}; after ${JSON.stringify(afterSample)}`,
    );
    assert.equal(tally.failed, 0, `failures: ${JSON.stringify([...tally.errors])}`);
    assert.equal(afterSample.sessions, before.sessions, 'only the WHEP host session is left');
    assert.ok(afterSample.threads <= Math.ceil(before.threads * 1.1), `threads ${before.threads} → ${afterSample.threads}`);
    assert.ok(afterSample.fds <= Math.ceil(before.fds * 1.1), `fds ${before.fds} → ${afterSample.fds}`);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });
});
