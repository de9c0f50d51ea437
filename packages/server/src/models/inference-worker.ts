/**
 * Worker thread entry: loads every model once, then answers `run` requests one batch at a time. onnxruntime's
 * run() blocks its thread, which is why it lives here and never on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OnnxModel } from './adapters/onnx-model.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-messages.js';

if (!parentPort) throw new Error('inference-worker must run in a worker thread');
const port = parentPort;
const post = (m: FromWorker): void => port.postMessage(m);
const init = workerData as WorkerInit;

const models = new Map<string, OnnxModel>();
try {
  for (const spec of init.models) {
    models.set(spec.name, await OnnxModel.load(spec, { device: init.device, intraOpNumThreads: init.intraOpNumThreads, maxBatch: init.maxBatch }));
  }
  post({ type: 'ready', models: [...models.values()].map((m) => m.info) });
} catch (err) {
  post({ type: 'init-error', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

// One batch at a time: models reuse their input buffers.
let chain: Promise<void> = Promise.resolve();
port.on('message', (msg: ToWorker) => {
  chain = chain.then(() => handle(msg));
});

let crashOnNextRun = false;

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'run': {
      if (crashOnNextRun) {
        // The thread dies holding this batch, as a crash mid-stream would (before onnxruntime starts: ending a
        // thread during a run aborts the whole process).
        throw new Error('inference worker crashed on request');
      }
      const model = models.get(msg.model);
      if (!model) {
        post({ type: 'error', id: msg.id, message: `model "${msg.model}" is not loaded` });
        return;
      }
      try {
        const t0 = performance.now();
        const outputs = await model.run(msg.items);
        post({ type: 'result', id: msg.id, outputs, inferenceMs: performance.now() - t0, stages: model.lastStages });
      } catch (err) {
        post({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
    case 'close':
      for (const m of models.values()) await m.close();
      models.clear();
      port.close();
      return;
    case 'crash':
      crashOnNextRun = true;
      return;
  }
}
