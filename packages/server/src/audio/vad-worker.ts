/**
 * VAD worker thread: one Silero model shared by every stream, each stream with its own recurrent state. Windows
 * queue per stream; each run takes the oldest window of every stream that has one (up to `maxBatch`), so streams
 * advance together and a run never holds two windows of one stream.
 */
import { WorkerPort } from '../workers/worker-port.js';
import { newSileroState, SileroVad, type SileroState } from './silero-vad.js';
import type { VadProtocol } from './vad-worker-messages.js';

const port = new WorkerPort<VadProtocol>('vad-worker');
const init = port.init;
const model = await port.start(
  () => SileroVad.load(init.modelPath),
  () => null,
);

interface Stream {
  state: SileroState;
  queue: Array<{ id: number; samples: Float32Array }>;
}
const streams = new Map<number, Stream>();
let running = false;
let closing = false;

port.onMessage((msg) => {
  switch (msg.type) {
    case 'request': {
      const { stream, samples } = msg.request;
      let s = streams.get(stream);
      if (!s) streams.set(stream, (s = { state: newSileroState(), queue: [] }));
      s.queue.push({ id: msg.id, samples });
      break;
    }
    case 'notice':
      streams.delete(msg.notice.stream);
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
  const batch: Array<{ stream: number; id: number; samples: Float32Array; state: SileroState }> = [];
  for (const [stream, s] of streams) {
    const w = s.queue.shift();
    if (w) batch.push({ stream, id: w.id, samples: w.samples, state: s.state });
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
      (probs) =>
        port.answers(
          batch.map((b, i) => ({ id: b.id, value: probs[i]! })),
          { windows: batch.length, modelMs: performance.now() - t0 },
        ),
      (err: unknown) => {
        const message = `VAD run failed: ${err instanceof Error ? err.message : String(err)}`;
        port.answers(batch.map((b) => ({ id: b.id, error: message })));
      },
    )
    .finally(() => {
      running = false;
      // Let messages that arrived during the run in first, so the next batch includes them.
      setImmediate(schedule);
    });
}
