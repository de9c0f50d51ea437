/**
 * Worker thread entry: loads every model once, then answers run requests one batch at a time. onnxruntime's
 * run() blocks its thread, which is why it lives here and never on the main thread.
 */
import type { ToWorker } from '../workers/worker-protocol.js';
import { WorkerPort } from '../workers/worker-port.js';
import { OnnxModel } from './adapters/onnx-model.js';
import ort from 'onnxruntime-node';
import type { InferenceProtocol, RawTensor } from './worker-messages.js';

const port = new WorkerPort<InferenceProtocol>('inference-worker');
const init = port.init;

const models = await port.start(
  async () => {
    const loaded = new Map<string, OnnxModel>();
    for (const spec of init.models) {
      loaded.set(spec.name, await OnnxModel.load(spec, { device: init.device, intraOpNumThreads: init.intraOpNumThreads, maxBatch: init.maxBatch }));
    }
    return loaded;
  },
  (loaded) => ({ models: [...loaded.values()].map((m) => m.info) }),
);

// One batch at a time: models reuse their input buffers.
let chain: Promise<void> = Promise.resolve();
port.onMessage((msg) => {
  chain = chain.then(() => handle(msg));
});

let crashOnNextRun = false;

async function handle(msg: ToWorker<InferenceProtocol>): Promise<void> {
  switch (msg.type) {
    case 'request': {
      if (crashOnNextRun) {
        // The thread dies holding this batch, as a crash mid-stream would (before onnxruntime starts: ending a
        // thread during a run aborts the whole process).
        throw new Error('inference worker crashed on request');
      }
      const { id, request } = msg;
      const model = models.get(request.model);
      if (!model) {
        port.fail(id, `model "${request.model}" is not loaded`);
        return;
      }
      if ('kind' in request) {
        try {
          const t0 = performance.now();
          const feeds = Object.fromEntries(request.inputs.map((t) => [t.name, rawToOrt(t)]));
          const out = await model.runRaw(feeds);
          const outputs = Object.entries(out).map(([name, t]) => ortToRaw(name, t));
          port.answers(
            [{ id, value: { kind: 'raw', outputs, inferenceMs: performance.now() - t0 } }],
            undefined,
            outputs.map((o) => o.data),
          );
        } catch (err) {
          port.fail(id, err instanceof Error ? err.message : String(err));
        }
        return;
      }
      try {
        const t0 = performance.now();
        const outputs = await model.run(request.items);
        port.answer(id, { outputs, inferenceMs: performance.now() - t0, stages: model.lastStages });
      } catch (err) {
        port.fail(id, err instanceof Error ? err.message : String(err));
      }
      return;
    }
    case 'notice':
      if (msg.notice.type === 'crash') crashOnNextRun = true;
      return;
    case 'close':
      for (const m of models.values()) await m.close();
      models.clear();
      port.close();
      return;
  }
}

const TYPED: Record<string, { new (buffer: ArrayBuffer): ort.Tensor.DataType }> = {
  float32: Float32Array,
  float64: Float64Array,
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
  float16: Uint16Array,
};

function rawToOrt(t: RawTensor): ort.Tensor {
  const ctor = TYPED[t.type];
  if (!ctor) throw new Error(`input "${t.name}": element type ${t.type} is not supported`);
  return new ort.Tensor(t.type as ort.Tensor.Type, new ctor(t.data), t.dims);
}

function ortToRaw(name: string, t: ort.Tensor): RawTensor {
  const d = t.data as ArrayBufferView;
  // A copy of exactly the tensor's bytes, to transfer.
  const data = new Uint8Array(d.byteLength);
  data.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  return { name, type: t.type, dims: [...t.dims], data: data.buffer };
}
