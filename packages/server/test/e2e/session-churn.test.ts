import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { NodeClient, type NodeResult } from '@sightline/node';
import sharp from 'sharp';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

/**
 * Session teardown on the ndc engine: 300 sessions one after the other, each a real WebRTC client (@sightline/node,
 * libdatachannel with FFmpeg encoding) that connects, gets a result and closes (DELETE, then the connection). Every
 * other session sends JPEG frames on a DataChannel (no media track); the others an H.264 video track, so FFmpeg
 * decoders are made and freed too. Whatever a session makes in the server — libdatachannel peers, tracks, channels, decoders, threads,
 * sockets — must be gone when it ends: the server process's threads and file descriptors come back to where they
 * started, /readyz counts no session, and SIGTERM ends it cleanly. The test process (the clients) is reported too.
 */

const KEY = 'churn-key';
const SESSIONS = 300;
const DRAIN_MS = 3000;
const W = 320;
const H = 240;

/** Threads and open file descriptors of process `pid`, from /proc. */
function usage(pid: number): { threads: number; fds: number } {
  const threads = Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return { threads, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** Thread names of process `pid` (/proc/PID/task/TID/comm) with their counts: "name×n …". */
function threadNames(pid: number): Map<string, number> {
  const names = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      names.set(name, (names.get(name) ?? 0) + 1);
    } catch {
      // the thread ended meanwhile
    }
  }
  return names;
}

/** What `b` has more (or less) of than `a`, e.g. "+4 libuv-worker, -1 foo", or "none". */
function threadDiff(a: Map<string, number>, b: Map<string, number>): string {
  const out: string[] = [];
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const d = (b.get(name) ?? 0) - (a.get(name) ?? 0);
    if (d !== 0) out.push(`${d > 0 ? '+' : ''}${d} ${name}`);
  }
  return out.join(', ') || 'none';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe(`session churn on the ndc engine: ${SESSIONS} sessions one after another`, { timeout: 300_000 }, () => {
  let server: ServerProcess;
  let jpeg: Uint8Array;
  let i420: Uint8Array;

  before(async () => {
    server = await startServerProcess(['--drain-timeout-ms', String(DRAIN_MS)], { SIGHTLINE_API_KEYS: KEY, SIGHTLINE_DB: ':memory:' });
    jpeg = new Uint8Array(
      await sharp({ create: { width: W, height: H, channels: 3, background: { r: 200, g: 120, b: 40 } } })
        .jpeg()
        .toBuffer(),
    );
    i420 = new Uint8Array(W * H * 1.5).fill(128);
  });
  after(async () => {
    await server?.stop();
  });

  /** One session: connect, a result, close. Even `i`: JPEG frames on a DataChannel; odd: an H.264 video track. */
  async function runSession(i: number): Promise<void> {
    const transport = i % 2 === 0 ? 'datachannel' : 'webrtc';
    const client = await NodeClient.connect({ url: server.url, apiKey: KEY, processor: 'stats', transport });
    const results: NodeResult[] = [];
    client.onResult = (r) => results.push(r);
    try {
      if (transport === 'datachannel') {
        for (let k = 0; k < 3; k++) client.sendEncoded(jpeg);
        await waitFor(`a result in session ${i} (JPEG)`, () => results.length >= 1);
      } else {
        // Frames until a result comes (the decoder waits for the first keyframe).
        const timer = setInterval(() => client.send({ width: W, height: H, data: i420.slice() }), 33);
        try {
          await waitFor(`a result in session ${i} (video track)`, () => results.length >= 1);
        } finally {
          clearInterval(timer);
        }
      }
    } finally {
      const summary = await client.close();
      assert.ok(summary, `session ${i}: the server did not answer the DELETE`);
    }
  }

  test(`threads and fds of the server come back after ${SESSIONS} sessions; /readyz 0 sessions; SIGTERM exits 0`, async (t) => {
    const pid = server.proc.pid!;
    await sleep(500);
    // The first sessions start thread pools that live as long as the process, one each (seen: libdatachannel's
    // "RTC worker" ×(cores) and "RTC poll", usrsctp's "SCTP iterator" and "SCTP timer", libvips' "libvips worker"):
    // not a leak. The baseline is taken after one session of each kind; the fresh server's figures are printed too.
    const fresh = usage(pid);
    const freshNames = threadNames(pid);
    await runSession(-2);
    await runSession(-1);
    await sleep(500);
    const start = usage(pid);
    const startNames = threadNames(pid);
    const t0 = performance.now();
    let peak = { ...start };
    const perSession: number[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const s0 = performance.now();
      await runSession(i);
      perSession.push(performance.now() - s0);
      const now = usage(pid);
      peak = { threads: Math.max(peak.threads, now.threads), fds: Math.max(peak.fds, now.fds) };
    }
    const elapsedS = (performance.now() - t0) / 1000;
    // Up to 5 s for the last session's native teardown.
    let end: { threads: number; fds: number };
    let sessions: number;
    const deadline = Date.now() + 5000;
    for (;;) {
      end = usage(pid);
      sessions = ((await (await fetch(`${server.url}/readyz`)).json()) as { sessions: number }).sessions;
      if ((end.threads <= start.threads + 4 && end.fds <= start.fds + 10 && sessions === 0) || Date.now() > deadline) break;
      await sleep(100);
    }
    const endNames = threadNames(pid);
    perSession.sort((a, b) => a - b);
    t.diagnostic(
      `${SESSIONS} sessions in ${elapsedS.toFixed(1)} s (per session median ${perSession[perSession.length >> 1]!.toFixed(0)} ms, ` +
        `max ${perSession.at(-1)!.toFixed(0)} ms)`,
    );
    t.diagnostic(
      `server threads ${start.threads} → ${end.threads} (peak ${peak.threads}), fds ${start.fds} → ${end.fds} (peak ${peak.fds}); ` +
        `/readyz sessions ${sessions}`,
    );
    t.diagnostic(
      `fresh server: ${fresh.threads} threads, ${fresh.fds} fds; the two warm-up sessions added threads ${threadDiff(freshNames, startNames)}; ` +
        `the ${SESSIONS} sessions: ${threadDiff(startNames, endNames)}`,
    );
    const warnings = server
      .output()
      .split('\n')
      .filter((l) => /"level":[4-6]\d/.test(l));
    t.diagnostic(`server log: ${warnings.length} warnings/errors${warnings.length ? `, first: ${warnings[0]!.slice(0, 300)}` : ''}`);
    t.diagnostic(`this test process (the clients): ${usage(process.pid).threads} threads, ${usage(process.pid).fds} fds`);
    const tail = `\n${server.output().slice(-3000)}`;
    assert.equal(sessions, 0, `/readyz still counts ${sessions} sessions${tail}`);
    assert.ok(end.threads <= start.threads + 4, `server threads ${start.threads} → ${end.threads} (${threadDiff(startNames, endNames)})${tail}`);
    assert.ok(end.fds <= start.fds + 10, `server fds ${start.fds} → ${end.fds}${tail}`);

    const s0 = performance.now();
    const code = await server.stop();
    const stopMs = performance.now() - s0;
    t.diagnostic(`SIGTERM → exit ${code} in ${stopMs.toFixed(0)} ms`);
    assert.equal(code, 0, `exit code ${code}${tail}`);
    assert.ok(stopMs < DRAIN_MS, `exit took ${stopMs.toFixed(0)} ms, past the ${DRAIN_MS} ms drain deadline`);
  });
});
