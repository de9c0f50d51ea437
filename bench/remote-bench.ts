/**
 * Remote bench: the same model (BlazeFace back) run by the media server's own workers and by `sightline
 * infer-server` (KServe v2 over HTTP, `--model faces=kserve+http://…/blazeface-back@blazeface --processor detect`),
 * with 1 and 4 Chromium sessions playing the same clip in the same run. Sessions and RTT as in the WebRTC bench
 * (its `measure`: RTT measured in the browser per frame, frame sent → its result). Prints one table.
 * Everything runs on this machine: the media server, the infer-server, Chromium (which also encodes every stream).
 */
import { loadavg } from 'node:os';
import { ensurePanClip } from '../packages/server/test/helpers/clip.js';
import { startInferServer } from './infer-server-process.js';
import { measure, type Row } from './webrtc-bench.js';

/** Runs the remote bench and prints its table. */
export async function runRemoteBench(): Promise<void> {
  const clip = ensurePanClip();
  const load0 = loadavg()[0]!;
  const rows: Array<{ where: string; row: Row }> = [];
  for (const sessions of [1, 4]) {
    process.stdout.write(`measuring face x${sessions}, model in the media server's workers…\n`);
    rows.push({ where: 'local (`face`, in-process workers)', row: await measure('face', sessions, clip) });
    // A fresh infer-server per row, as the media server is: no state carried from one row to the next.
    const infer = await startInferServer();
    try {
      process.stdout.write(`measuring detect x${sessions}, model on sightline infer-server (${infer.url})…\n`);
      const model = `faces=kserve+http://127.0.0.1:${infer.port}/blazeface-back@blazeface`;
      const row = await measure('detect', sessions, clip, true, 'H264', { serverArgs: ['--model', model], alsoCpuOf: [infer.proc.pid!] });
      rows.push({ where: 'remote (`detect`, kserve+http)', row });
    } finally {
      await infer.stop();
    }
  }
  const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');
  console.log(
    `\nLocal vs remote inference (BlazeFace back 256 px; Chromium H.264, clip 640x480 @ 30 fps; all on one machine; same run; load average ${load0.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after)\n`,
  );
  console.log(
    '| model runs | sessions | results/s per stream | RTT p50 ms | RTT p95 ms | inference p50 ms | in pipeline p50 ms | media server CPU % per stream | infer-server CPU % per stream | dropped (window) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const { where, row: r } of rows) {
    const remote = where.startsWith('remote');
    console.log(
      `| ${where} | ${r.sessions} | ${f(r.resultsPerSec)} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.inferenceP50, 2)} | ${f(r.serverP50, 2)} | ${f(r.cpuPerStream)} | ${remote ? f(r.otherCpuPerStream) : '–'} | ${r.dropped} |`,
    );
  }
  console.log(
    "\nRTT: encoded frame leaves Chromium → its result arrives on the DataChannel (per frame). Inference: the batch in the media server's worker (remote: pre-processing, the HTTP round trip and decoding).",
  );
}
