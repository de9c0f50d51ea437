/**
 * Seed-client bench: the seed's Python client (aiortc, with exactly the README's edits) as the publisher, 1 and 4 at
 * once. Per frame RTT is the client's own `[LATENCY]` log line (frame sent → its result
 * back, matched by frame_id); server CPU per stream over the same window. Prints one table.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, renameSync } from 'node:fs';
import { percentile } from '@sightline/protocol';
import { CLIP, ensurePanClip } from '../packages/server/test/helpers/clip.js';
import { startCoturn } from '../packages/server/test/helpers/coturn.js';
import { artifactsDir } from '../packages/server/test/helpers/paths.js';
import { seedClientWithReadmeEdits } from '../packages/server/test/helpers/readme-blocks.js';
import { startServerProcess } from '../packages/server/test/helpers/server-process.js';
import { cpuOf, cpuSeconds } from './proc-cpu.js';

const KEY = 'bench-key';
const WARMUP_S = 4;
const WINDOW_S = 10;
const PYTHON = process.env.SEED_PYTHON ?? '/usr/bin/python3';

/** The pan clip looped to cover warm-up, window and a margin: the seed client stops at the end of its "camera". */
function longClip(): string {
  const out = `${artifactsDir('clips')}astronaut-pan-long.y4m`;
  if (!existsSync(out)) {
    const loops = Math.ceil((WARMUP_S + WINDOW_S + 4) / CLIP.seconds) - 1;
    const tmp = `${out}.tmp.y4m`;
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-stream_loop', String(loops), '-i', ensurePanClip(), '-pix_fmt', 'yuv420p', tmp]);
    renameSync(tmp, out);
  }
  return out;
}

interface Row {
  sessions: number;
  delivered: number;
  p50: number;
  p95: number;
  cpuPerStream: number;
  clientCpuPerStream: number;
}

async function measure(sessions: number, clip: string, demo: string): Promise<Row> {
  const turn = await startCoturn(['--no-auth']);
  const server = await startServerProcess(['--processor', 'null', '--max-sessions', '8'], {
    SIGHTLINE_API_KEYS: KEY,
    SIGHTLINE_LOG_LEVEL: 'warn',
  });
  const clients: ChildProcess[] = [];
  const outs: string[] = [];
  try {
    for (let i = 0; i < sessions; i++) {
      const env = {
        ...process.env,
        API_KEY: KEY,
        SERVER_URL: `${server.url}/webrtc/offer`,
        TURN_SERVER_URL: '127.0.0.1',
        TURN_SERVER_PORT: String(turn.port),
        CAMERA: clip,
        USER_ID: `bench-${i}`,
      };
      const proc = spawn(PYTHON, [demo], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      outs.push('');
      proc.stdout!.on('data', (d: Buffer) => (outs[i] += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (outs[i] += d.toString()));
      clients.push(proc);
    }
    await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
    const clientPids = clients.map((c) => c.pid!);
    const cpu0 = cpuSeconds(server.proc.pid!);
    const c0 = cpuOf(clientPids);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    const cpu1 = cpuSeconds(server.proc.pid!);
    const c1 = cpuOf(clientPids);
    const wall = (performance.now() - t0) / 1000;
    // Let the last results of the window arrive, then stop the clients.
    await new Promise((r) => setTimeout(r, 1000));
    for (const c of clients) c.kill('SIGINT');
    await Promise.all(clients.map((c) => new Promise((r) => (c.exitCode !== null ? r(0) : c.once('exit', r)))));
    // Frames of the window: each client's frames numbered from its first result; the window is its middle part.
    const rtts: number[] = [];
    let sent = 0;
    let answered = 0;
    for (const out of outs) {
      const lines = [...out.matchAll(/\[LATENCY\] Frame (\d+) RTT: ([\d.]+) ms/g)].map((m) => ({ frame: Number(m[1]), rtt: Number(m[2]) }));
      if (lines.length === 0) continue;
      const first = lines[0]!.frame + CLIP.fps; // a second after the first answered frame: connection settled
      const last = first + Math.floor((WINDOW_S - 2) * CLIP.fps);
      const inWindow = lines.filter((l) => l.frame >= first && l.frame < last);
      sent += last - first;
      answered += new Set(inWindow.map((l) => l.frame)).size;
      rtts.push(...inWindow.map((l) => l.rtt));
    }
    return {
      sessions,
      delivered: sent > 0 ? (answered / sent) * 100 : 0,
      p50: percentile(rtts, 50) ?? NaN,
      p95: percentile(rtts, 95) ?? NaN,
      cpuPerStream: ((cpu1 - cpu0) / wall / sessions) * 100,
      clientCpuPerStream: ((c1 - c0) / wall / sessions) * 100,
    };
  } finally {
    for (const c of clients) if (c.exitCode === null) c.kill('SIGKILL');
    await server.stop();
    await turn.stop();
  }
}

/** Runs the seed-client bench and prints its table. */
export async function runSeedBench(): Promise<void> {
  const clip = longClip();
  const demo = seedClientWithReadmeEdits();
  const rows: Row[] = [];
  for (const sessions of [1, 4]) {
    process.stdout.write(`measuring seed client x${sessions}…\n`);
    rows.push(await measure(sessions, clip, demo));
  }
  const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');
  console.log(
    `\nSeed client (Python aiortc, 640x480 @ 30 fps, null processor; it offers VP8 and H.264, the server answers H.264) — ${WINDOW_S - 2} s of frames per client\n`,
  );
  console.log('| sessions | frames answered % | RTT p50 ms | RTT p95 ms | server CPU % per stream | client CPU % per stream |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.sessions} | ${f(r.delivered)} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.cpuPerStream)} | ${f(r.clientCpuPerStream)} |`);
  }
  console.log("\nRTT: the client's own [LATENCY] line (frame handed to aiortc → result with that frame_id back).");
}
