/**
 * Worker thread entry: loads every model once, then answers `run` requests one at a time. onnxruntime's run()
 * blocks its thread, which is why it lives here and never on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { BlazeFaceModel } from './blazeface/blazeface-model.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-messages.js';

if (!parentPort) throw new Error('inference-worker must run in a worker thread');
const port = parentPort;
const post = (m: FromWorker): void => port.postMessage(m);
const init = workerData as WorkerInit;
ort.env.logLevel = 'error';

const models = new Map<string, BlazeFaceModel>();
try {
  for (const spec of init.models) {
    models.set(spec.name, await BlazeFaceModel.load(spec.file, spec.variant, init.intraOpNumThreads));
  }
  post({ type: 'ready', models: [...models.keys()] });
} catch (err) {
  post({ type: 'init-error', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

// One run at a time: models reuse their input buffers, and onnxruntime runs one graph per thread anyway.
let chain: Promise<void> = Promise.resolve();
port.on('message', (msg: ToWorker) => {
  chain = chain.then(() => handle(msg));
});

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'run': {
      const model = models.get(msg.model);
      if (!model) {
        post({ type: 'error', id: msg.id, message: `model "${msg.model}" is not loaded` });
        return;
      }
      try {
        const t0 = performance.now();
        const faces = await model.detect(msg.frame, msg.minScore);
        const inferenceMs = performance.now() - t0;
        post({
          type: 'result',
          id: msg.id,
          output: { detections: faces.map((f) => ({ label: 'face', ...f })), inferenceMs },
        });
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
      // Between runs on purpose: ending a thread while onnxruntime has a run in flight aborts the whole process.
      throw new Error('inference worker crashed on request');
  }
}
