/**
 * The soak's parts, shared by `npm run soak` (bench/soak.ts: thousands of sessions) and the suite's short soak
 * (e2e/soak.test.ts): one whole session per transport as an outside client makes it, and the server process's
 * resources read from /proc and /metrics (no forced GC anywhere).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import sharp from 'sharp';
import { NodeClient, WsClient } from '@sightline/node';
import type { I420Frame } from '../../src/models/i420.js';
import { connectWhepViewer, connectWhip } from './raw-clients.js';

export const SOAK_TRANSPORTS = ['webrtc', 'whip', 'whep', 'ws'] as const;
export type SoakTransport = (typeof SOAK_TRANSPORTS)[number];

export interface SoakContext {
  url: string;
  key: string;
  /** A live session whose processed video WHEP viewers watch (see `startWhepHost`). */
  hostSessionId: string;
  frame: I420Frame;
  jpeg: Uint8Array;
}

/** What the server process holds: from /proc/<pid> (RSS, threads, fds) and /metrics (V8 heap, live sessions). */
export interface ServerSample {
  rssMb: number;
  heapMb: number;
  threads: number;
  fds: number;
  /** Of `fds`, TCP sockets: HTTP keep-alive connections clients hold open (closed by them or after 72 s idle). */
  tcp: number;
  sessions: number;
}

/** Socket inodes of a process's TCP connections, from /proc/<pid>/net/tcp{,6}. */
function tcpInodes(pid: number): Set<string> {
  const out = new Set<string>();
  for (const f of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${f}`, 'utf8').split('\n').slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode && inode !== '0') out.add(inode);
    }
  }
  return out;
}

export async function sampleServer(pid: number, url: string): Promise<ServerSample> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
  const tcp = tcpInodes(pid);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const sum = (name: string): number => [...metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
  return {
    rssMb: Math.round(field('VmRSS') / 1024),
    heapMb: Math.round(sum('nodejs_heap_size_used_bytes') / 1048576),
    threads: field('Threads'),
    fds: fds.length,
    tcp: fds.filter((l) => tcp.has(/^socket:\[(\d+)\]$/.exec(l)?.[1] ?? '')).length,
    sessions: sum('sightline_sessions_active'),
  };
}

/** A 320x240 grey frame and the same as a JPEG. */
export async function soakMedia(): Promise<{ frame: I420Frame; jpeg: Uint8Array }> {
  const W = 320;
  const H = 240;
  const frame = { width: W, height: H, data: new Uint8Array(W * H * 1.5).fill(128).fill(90, 0, W * H) };
  const jpeg = new Uint8Array(
    await sharp({ create: { width: W, height: H, channels: 3, background: '#5a5a5a' } })
      .jpeg()
      .toBuffer(),
  );
  return { frame, jpeg };
}

/** The session WHEP viewers watch: a Node client sending 10 fps until `stop()`. */
export async function startWhepHost(url: string, key: string, frame: I420Frame): Promise<{ id: string; stop(): Promise<void> }> {
  const client = await NodeClient.connect({ url, apiKey: key, processor: 'stats' });
  const timer = setInterval(() => client.send(frame), 100);
  return {
    id: client.sessionId,
    stop: async () => {
      clearInterval(timer);
      await client.close();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await sleep(10);
  }
}

/**
 * One whole session, start to end: WebRTC (the Node SDK: connect, frames, a result, DELETE), WHIP (publish, frames,
 * DELETE), WHEP (a viewer of the host session until video arrives, DELETE) or WebSocket (connect, a JPEG, its
 * result, close). Rejects with what went wrong.
 */
export async function oneSession(transport: SoakTransport, ctx: SoakContext): Promise<void> {
  if (transport === 'webrtc') {
    const client = await NodeClient.connect({ url: ctx.url, apiKey: ctx.key, processor: 'stats' }, 10_000);
    try {
      let results = 0;
      client.onResult = () => results++;
      for (let i = 0; i < 3; i++) {
        client.send(ctx.frame);
        await sleep(30);
      }
      await until('no result', () => results > 0, 5000);
    } finally {
      await client.close();
    }
  } else if (transport === 'whip') {
    const whip = await connectWhip(ctx.url, ctx.key);
    try {
      for (let i = 0; i < 3; i++) {
        whip.send(ctx.frame);
        await sleep(30);
      }
    } finally {
      await whip.close();
    }
  } else if (transport === 'whep') {
    const viewer = await connectWhepViewer(ctx.url, ctx.key, ctx.hostSessionId);
    await viewer.close();
  } else {
    const client = await WsClient.connect({ url: ctx.url, apiKey: ctx.key, processor: 'stats' }, 10_000);
    try {
      let results = 0;
      client.onResult = () => results++;
      client.sendEncoded(ctx.jpeg);
      await until('no result', () => results > 0, 5000);
    } finally {
      await client.close();
    }
  }
}

export interface SoakTally {
  ok: number;
  failed: number;
  /** Failures by transport and message (the first 120 characters). */
  errors: Map<string, number>;
}

export function newTally(): SoakTally {
  return { ok: 0, failed: 0, errors: new Map() };
}

/** Runs one session, counting it in `tally`; never rejects. */
export async function tallied(transport: SoakTransport, ctx: SoakContext, tally: SoakTally): Promise<void> {
  try {
    await oneSession(transport, ctx);
    tally.ok++;
  } catch (err) {
    tally.failed++;
    const k = `${transport}: ${(err instanceof Error ? err.message : String(err)).slice(0, 120)}`;
    tally.errors.set(k, (tally.errors.get(k) ?? 0) + 1);
  }
}
