/**
 * VAD worker thread: one Silero model shared by every stream, each stream with its own recurrent state. Windows
 * queue per stream; each run takes the oldest window of every stream that has one (up to `maxBatch`), so streams
 * advance together and a run never holds two windows of one stream.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { newSileroState, SileroVad, type SileroState } from './silero-vad.js';
import type { FromVadWorker, ToVadWorker, VadWorkerInit } from './vad-worker-messages.js';

if (!parentPort) throw new Error('vad-worker must run in a worker thread');
const port = parentPort;
const post = (m: FromVadWorker): void => port.postMessage(m);
const init = workerData as VadWorkerInit;

let model: SileroVad;
try {
  model = await SileroVad.load(init.modelPath);
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'init-error', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

interface Stream {
  state: SileroState;
  queue: Array<{ seq: number; samples: Float32Array }>;
}
const streams = new Map<number, Stream>();
let running = false;
let closing = false;

port.on('message', (msg: ToVadWorker) => {
  switch (msg.type) {
    case 'window': {
      let s = streams.get(msg.stream);
      if (!s) streams.set(msg.stream, (s = { state: newSileroState(), queue: [] }));
      s.queue.push({ seq: msg.seq, samples: msg.samples });
      break;
    }
    case 'end':
      streams.delete(msg.stream);
      break;
    case 'close':
      closing = true;
      break;
  }
  schedule();
});

function schedule(): void {
  if (running) return;
  if (closing) {
    running = true;
    void model.close().finally(() => port.close());
    return;
  }
  const batch: Array<{ stream: number; seq: number; samples: Float32Array; state: SileroState }> = [];
  for (const [id, s] of streams) {
    const w = s.queue.shift();
    if (w) batch.push({ stream: id, seq: w.seq, samples: w.samples, state: s.state });
    if (batch.length >= init.maxBatch) break;
  }
  if (batch.length === 0) return;
  // Streams served this time go to the back, so a full batch rotates fairly.
  for (const b of batch) {
    const s = streams.get(b.stream)!;
    streams.delete(b.stream);
    streams.set(b.stream, s);
  }
  running = true;
  const t0 = performance.now();
  model
    .run(batch)
    .then(
      (probs) => post({ type: 'probs', results: batch.map((b, i) => ({ stream: b.stream, seq: b.seq, prob: probs[i]! })), modelMs: performance.now() - t0 }),
      (err: unknown) =>
        post({ type: 'error', results: batch.map((b) => ({ stream: b.stream, seq: b.seq })), message: err instanceof Error ? err.message : String(err) }),
    )
    .finally(() => {
      running = false;
      // Let messages that arrived during the run in first, so the next batch includes them.
      setImmediate(schedule);
    });
}
