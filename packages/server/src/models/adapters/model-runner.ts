/**
 * Where a model's graph runs, behind one interface: onnxruntime in this worker (`OnnxRunner`), or a KServe v2
 * server over HTTP or gRPC (`KserveRunner`: Triton, `sightline infer-server`, …). Pre-processing and decoding stay
 * with `OnnxModel` and its adapter either way; a runner only takes the batch tensor and returns the output tensors.
 */
import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import type { KserveClient, TensorMetadata } from '../../kserve/kserve-client.js';
import { KserveGrpcClient } from '../../kserve/kserve-grpc-client.js';
import { KserveHttpClient } from '../../kserve/kserve-http-client.js';
import { DATATYPE_OF_ORT, ORT_TYPE_OF, type Datatype, type TensorValues } from '../../kserve/tensor-data.js';
import { readOnnxMetadata } from '../onnx-metadata.js';
import type { ValueInfo } from './adapter.js';
import type { Device, ModelSpec } from './model-info.js';

export interface ModelRunner {
  readonly inputs: ValueInfo[];
  readonly outputs: ValueInfo[];
  /** The model's metadata properties (ONNX `metadata_props`: class names…); empty for a remote model. */
  readonly meta: Record<string, string>;
  /** Runs the graph on `feeds` (input name → tensor); every output by name. */
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  close(): Promise<void>;
}

export interface RunnerOptions {
  device: Device;
  intraOpNumThreads: number;
}

export async function openRunner(spec: ModelSpec, opts: RunnerOptions): Promise<ModelRunner> {
  return spec.remote ? KserveRunner.open(spec.remote) : OnnxRunner.open(spec.file, opts);
}

export class OnnxRunner implements ModelRunner {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly meta: Record<string, string>,
  ) {}

  static async open(file: string, opts: RunnerOptions): Promise<OnnxRunner> {
    const bytes = await readFile(file);
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: opts.device === 'cpu' ? ['cpu'] : [opts.device === 'tensorrt' ? 'tensorrt' : 'cuda', 'cpu'],
      intraOpNumThreads: opts.intraOpNumThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
    return new OnnxRunner(session, readOnnxMetadata(bytes));
  }

  get inputs(): ValueInfo[] {
    return this.session.inputMetadata.map(valueInfo);
  }

  get outputs(): ValueInfo[] {
    return this.session.outputMetadata.map(valueInfo);
  }

  async run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    return (await this.session.run(feeds)) as Record<string, ort.Tensor>;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** onnxruntime's element types for the protocol's datatypes (what the adapters read), and back. */
const ORT_TYPE = ORT_TYPE_OF as Partial<Record<Datatype, ort.Tensor.Type>>;
const DATATYPE = DATATYPE_OF_ORT;

export class KserveRunner implements ModelRunner {
  readonly meta: Record<string, string> = {};
  private constructor(
    readonly client: KserveClient,
    readonly inputs: ValueInfo[],
    readonly outputs: ValueInfo[],
  ) {}

  /**
   * Reads the model's metadata from the server (it must be up when the worker starts), over the protocol its URL
   * names (`kserve+http`, `kserve+https`, `kserve+grpc`).
   */
  static async open(remote: NonNullable<ModelSpec['remote']>): Promise<KserveRunner> {
    const client: KserveClient =
      remote.protocol === 'grpc'
        ? new KserveGrpcClient({ target: remote.url, model: remote.model, version: remote.version })
        : new KserveHttpClient({ baseUrl: remote.url, model: remote.model, version: remote.version });
    let md;
    try {
      md = await client.metadata();
    } catch (err) {
      client.close();
      throw err;
    }
    const info = (t: TensorMetadata): ValueInfo => ({
      name: t.name,
      shape: t.shape.map((d, i) => (d < 0 ? `dim${i}` : d)),
      type: ORT_TYPE[t.datatype] ?? t.datatype.toLowerCase(),
    });
    return new KserveRunner(client, md.inputs.map(info), md.outputs.map(info));
  }

  async run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    const inputs = Object.entries(feeds).map(([name, tensor]) => {
      const datatype = DATATYPE[tensor.type];
      if (!datatype) throw new Error(`cannot send a ${tensor.type} tensor to a KServe server`);
      return { name, datatype, shape: [...tensor.dims], values: tensor.data as TensorValues };
    });
    const res = await this.client.infer({
      inputs,
      outputs: this.outputs.map((o) => ({ name: o.name, binary: true })),
    });
    const out: Record<string, ort.Tensor> = {};
    for (const o of res.outputs) {
      const type = ORT_TYPE[o.datatype];
      if (!type || Array.isArray(o.values)) throw new Error(`output "${o.name}" is ${o.datatype}, which no adapter decodes`);
      out[o.name] = new ort.Tensor(type, o.values as ort.Tensor.DataType, o.shape);
    }
    return out;
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

function valueInfo(m: ort.InferenceSession.ValueMetadata): ValueInfo {
  return m.isTensor ? { name: m.name, shape: [...m.shape], type: m.type } : { name: m.name, shape: [], type: 'non-tensor' };
}
