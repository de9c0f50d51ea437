import { basename } from 'node:path';
import ort from 'onnxruntime-node';
import type { ItemOutput, RunItem, StageTimes } from '../model-io.js';
import { parseClassNames } from '../onnx-metadata.js';
import { i420ToTensor, type InputSpec } from '../preprocess.js';
import { readImageInput, type OutputDecoder } from './adapter.js';
import type { Device, ModelInfo, ModelSpec } from './model-info.js';
import { openRunner, type ModelRunner } from './model-runner.js';
import { adapterNamed, detectAdapter } from './registry.js';

export interface LoadOptions {
  device: Device;
  intraOpNumThreads: number;
  maxBatch: number;
}

/**
 * One ONNX model in one worker: its session, the input spec and output decoder its adapter chose, and a reusable
 * input buffer sized for its largest batch. `run` preprocesses every frame straight into the batch tensor.
 */
export class OnnxModel {
  readonly info: ModelInfo;
  readonly #runner: ModelRunner;
  readonly #spec: InputSpec;
  readonly #decoder: OutputDecoder;
  readonly #inputName: string;
  readonly #buffer: Float32Array | Uint8Array;

  private constructor(info: ModelInfo, runner: ModelRunner, spec: InputSpec, decoder: OutputDecoder) {
    this.info = info;
    this.#runner = runner;
    this.#spec = spec;
    this.#decoder = decoder;
    this.#inputName = info.inputs[0]!.name;
    const n = info.maxBatch * spec.width * spec.height * 3;
    this.#buffer = spec.dtype === 'uint8' ? new Uint8Array(n) : new Float32Array(n);
  }

  static async load(spec: ModelSpec, opts: LoadOptions): Promise<OnnxModel> {
    const runner = await openRunner(spec, opts);
    const meta = runner.meta;
    const inputs = runner.inputs;
    const outputs = runner.outputs;
    const adapter = adapterNamed(spec.adapter ?? detectAdapter(inputs, outputs, meta, spec.file));
    const labels = spec.labels ?? (meta.names ? parseClassNames(meta.names) : null);
    const input = inputs[0];
    if (!input || input.shape.length !== 4) {
      throw new Error(`${spec.file}: expected one image input of rank 4, found ${JSON.stringify(inputs)}`);
    }
    const dynamicBatch = typeof input.shape[0] !== 'number' || input.shape[0] < 1;
    const maxBatch = dynamicBatch ? Math.max(1, opts.maxBatch) : Number(input.shape[0]);
    const inputSpec = adapter.inputSpec(readImageInput(input), meta);
    const decoder = adapter.decoder({ outputs, labels, input: inputSpec, file: spec.file });
    const info: ModelInfo = {
      name: spec.name,
      adapter: adapter.name,
      kind: adapter.kind,
      file: basename(spec.file),
      inputs,
      outputs,
      input: {
        width: inputSpec.width,
        height: inputSpec.height,
        layout: inputSpec.layout,
        channels: inputSpec.channels,
        dtype: inputSpec.dtype,
        resize: inputSpec.resize,
      },
      labels: adapter.labels ? [...adapter.labels] : labels,
      dynamicBatch,
      maxBatch,
      device: opts.device,
    };
    return new OnnxModel(info, runner, inputSpec, decoder);
  }

  /** Time spent in each stage of the last `run`, ms. */
  lastStages: StageTimes = { preprocessMs: 0, modelMs: 0, decodeMs: 0 };

  /** Runs a batch (at most `info.maxBatch` items); one output per item, in order. */
  async run(items: RunItem[]): Promise<ItemOutput[]> {
    const n = items.length;
    if (n === 0) return [];
    const t0 = performance.now();
    if (n > this.info.maxBatch) throw new Error(`batch of ${n} exceeds max ${this.info.maxBatch}`);
    const { width, height, layout } = this.#spec;
    const per = width * height * 3;
    const transforms = items.map((it, b) => i420ToTensor(it.frame, this.#spec, this.#buffer, b));
    const dims = layout === 'nchw' ? [n, 3, height, width] : [n, height, width, 3];
    const data = this.#buffer.subarray(0, n * per);
    const tensor = this.#spec.dtype === 'uint8' ? new ort.Tensor('uint8', data as Uint8Array, dims) : new ort.Tensor('float32', data as Float32Array, dims);
    const t1 = performance.now();
    const outputs = await this.#runner.run({ [this.#inputName]: tensor });
    const t2 = performance.now();
    const decoded = items.map((it, b) => this.#decoder.decode(outputs, b, transforms[b]!, it.frame, it.params));
    this.lastStages = { preprocessMs: t1 - t0, modelMs: t2 - t1, decodeMs: performance.now() - t2 };
    return decoded;
  }

  /** The graph alone on tensors a client sent (`sightline infer-server`): no pre-processing, no decoding. */
  async runRaw(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    return this.#runner.run(feeds);
  }

  async close(): Promise<void> {
    await this.#runner.close();
  }
}
