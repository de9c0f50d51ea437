/**
 * `npm run soak`: the long soak of the hardening issue, against the built server in a process of its own.
 * - SOAK_SEQUENTIAL (default 1000) sessions one after another, WebRTC, WHIP, WHEP and WebSocket in turn;
 * - then SOAK_WAVES (default 4) waves of SOAK_WAVE_SIZE (default 50) sessions at once, the transports mixed.
 * Prints the server's RSS, V8 heap, threads and fds before, during (every SOAK_SAMPLE_EVERY sessions) and after
 * (10 s after the last session; no forced GC), the failures by cause, and whether the server survived.
 */
import { startServerProcess } from '../packages/server/test/helpers/server-process.js';
import {
  newTally,
  sampleServer,
  SOAK_TRANSPORTS,
  soakMedia,
  startWhepHost,
  tallied,
  type ServerSample,
  type SoakContext,
} from '../packages/server/test/helpers/soak.js';

const KEY = 'soak-key';
const SEQUENTIAL = Number(process.env.SOAK_SEQUENTIAL ?? 1000);
const WAVES = Number(process.env.SOAK_WAVES ?? 4);
const WAVE_SIZE = Number(process.env.SOAK_WAVE_SIZE ?? 50);
const SAMPLE_EVERY = Number(process.env.SOAK_SAMPLE_EVERY ?? 200);

const rows: string[] = [];
const row = (phase: string, done: number, failed: number, s: ServerSample, t0: number): void => {
  rows.push(
    `| ${phase} | ${done} | ${failed} | ${s.sessions} | ${s.rssMb} | ${s.heapMb} | ${s.threads} | ${s.fds} | ${s.fds - s.tcp} | ${((performance.now() - t0) / 1000).toFixed(0)} |`,
  );
  console.log(rows.at(-1));
};

const server = await startServerProcess(
  ['--workers', '1', '--processor', 'stats', '--max-sessions', String(Math.max(64, WAVE_SIZE + 8)), '--max-viewers', String(WAVE_SIZE)],
  {
    SIGHTLINE_API_KEYS: KEY,
    SIGHTLINE_LOG_LEVEL: 'warn',
  },
);
const pid = server.proc.pid!;
const t0 = performance.now();
let crashed = false;
const onExit = (code: number | null, signal: string | null): void => {
  crashed = true;
  console.error(`the server exited during the soak: code ${code}, signal ${signal}`);
};
server.proc.once('exit', onExit);
try {
  const media = await soakMedia();
  const host = await startWhepHost(server.url, KEY, media.frame);
  const ctx: SoakContext = { url: server.url, key: KEY, hostSessionId: host.id, ...media };
  console.log(
    '| phase | sessions done | failed | live | RSS MB | heap MB | threads | fds | fds but TCP keep-alive | s |\n|---|---|---|---|---|---|---|---|---|---|',
  );
  const start = await sampleServer(pid, server.url);
  row('start', 0, 0, start, t0);
  const seq = newTally();
  for (let i = 0; i < SEQUENTIAL && !crashed; i++) {
    await tallied(SOAK_TRANSPORTS[i % 4]!, ctx, seq);
    if ((i + 1) % SAMPLE_EVERY === 0) row('sequential', i + 1, seq.failed, await sampleServer(pid, server.url), t0);
  }
  const waves = newTally();
  for (let w = 0; w < WAVES && !crashed; w++) {
    await Promise.all(Array.from({ length: WAVE_SIZE }, (_, i) => tallied(SOAK_TRANSPORTS[(w + i) % 4]!, ctx, waves)));
    row(`wave ${w + 1} of ${WAVE_SIZE}`, (w + 1) * WAVE_SIZE, waves.failed, await sampleServer(pid, server.url), t0);
  }
  await host.stop();
  await new Promise((r) => setTimeout(r, 10_000));
  const end = await sampleServer(pid, server.url);
  row('after (+10 s)', seq.ok + seq.failed + waves.ok + waves.failed, seq.failed + waves.failed, end, t0);
  console.log(
    `\nSoak (${SEQUENTIAL} sequential, ${WAVES}×${WAVE_SIZE} concurrent): ${seq.ok + waves.ok} ok, ${seq.failed + waves.failed} failed, server ${crashed ? 'CRASHED' : 'alive'}`,
  );
  console.log(
    `threads ${start.threads} → ${end.threads}, fds ${start.fds} → ${end.fds} (${end.tcp} of them TCP keep-alive), RSS ${start.rssMb} → ${end.rssMb} MB, heap ${start.heapMb} → ${end.heapMb} MB`,
  );
  for (const [cause, n] of [...seq.errors, ...waves.errors]) console.log(`  ${n} × ${cause}`);
  if (crashed || seq.failed + waves.failed > 0) process.exitCode = 1;
} finally {
  server.proc.off('exit', onExit);
  await server.stop();
}
