/**
 * What `sightline infer-server` answers, whatever the transport: the models it serves, their metadata, readiness,
 * and inference on the worker pool's `runRaw` with the request checked against the model first. The REST app
 * (`infer-server-app.ts`) and the gRPC server (`infer-grpc-server.ts`) both call this, so a request is refused with the
 * same words over either; each maps `InferServerError`'s kind to its own status (404/400/503, NOT_FOUND /
 * INVALID_ARGUMENT / UNAVAILABLE).
 */
import type { InferRequest, InferResponse, Tensor } from '../kserve/infer-messages.js';
import { DATATYPE_OF_ORT, ORT_TYPE_OF, valuesFromBinary, valuesToBinary } from '../kserve/tensor-data.js';
import type { ValueInfo } from '../models/adapters/adapter.js';
import type { ModelInfo } from '../models/adapters/model-info.js';
import { PoolUnavailableError, type InferencePool } from '../models/inference-pool.js';
import type { RawTensor } from '../models/worker-messages.js';

export type ServedPool = Pick<InferencePool, 'models' | 'runRaw' | 'size'>;

/** `not_found`: no such model or version; `invalid`: the request does not fit the model; `unavailable`: the pool cannot run it now. */
export class InferServerError extends Error {
  constructor(
    readonly kind: 'not_found' | 'invalid' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'InferServerError';
  }
}

/** The server's name in its metadata. */
export const SERVER_NAME = 'sightline';
/** The one version each model has. */
export const MODEL_VERSION = '1';
export const PLATFORM = 'onnxruntime_onnx';

const DATATYPE = DATATYPE_OF_ORT;

export interface TensorMetadataJson {
  name: string;
  datatype: string;
  /** -1 for a dynamic dimension. */
  shape: number[];
}

function tensorMetadata(v: ValueInfo): TensorMetadataJson {
  return { name: v.name, datatype: DATATYPE[v.type] ?? v.type.toUpperCase(), shape: v.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
}

/** Ready while a worker runs. */
export function poolReady(pool: ServedPool): boolean {
  return pool.size > 0;
}

/** The served model `name` (at `version`, when one is asked), or a `not_found` error. */
export function findModel(pool: ServedPool, name: string, version?: string): ModelInfo {
  const m = pool.models.find((x) => x.name === name);
  if (!m) throw new InferServerError('not_found', `model "${name.slice(0, 100)}" is not served here`);
  if (version !== undefined && version !== MODEL_VERSION) throw new InferServerError('not_found', `model "${m.name}" has only version ${MODEL_VERSION}`);
  return m;
}

export function modelMetadata(m: ModelInfo): {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadataJson[];
  outputs: TensorMetadataJson[];
} {
  return { name: m.name, versions: [MODEL_VERSION], platform: PLATFORM, inputs: m.inputs.map(tensorMetadata), outputs: m.outputs.map(tensorMetadata) };
}

/**
 * Each input checked against the model's: a known name, every input given, the model's datatype, its rank and
 * fixed dimensions. onnxruntime would refuse most of these too, but after a trip to a worker and in its own words.
 */
function checkInputs(m: ModelInfo, inputs: readonly Tensor[]): void {
  const byName = new Map(m.inputs.map((v) => [v.name, v]));
  for (const t of inputs) {
    const v = byName.get(t.name);
    if (!v) throw new InferServerError('invalid', `model "${m.name}" has no input "${t.name}" (inputs: ${[...byName.keys()].join(', ')})`);
    const want = DATATYPE[v.type];
    if (want !== undefined && t.datatype !== want) throw new InferServerError('invalid', `model "${m.name}" input "${t.name}" is ${want}; got ${t.datatype}`);
    const fits = v.shape.length === t.shape.length && v.shape.every((d, i) => typeof d !== 'number' || d < 0 || d === t.shape[i]);
    if (!fits) {
      const dims = tensorMetadata(v).shape;
      throw new InferServerError('invalid', `model "${m.name}" input "${t.name}" has shape ${JSON.stringify(dims)} (-1: any); got ${JSON.stringify(t.shape)}`);
    }
  }
  const given = new Set(inputs.map((t) => t.name));
  const missing = m.inputs.find((v) => !given.has(v.name));
  if (missing) throw new InferServerError('invalid', `model "${m.name}" needs input "${missing.name}"`);
}

/** Runs `request` on model `m` on the pool: the graph alone on the client's tensors; the outputs it asks for. */
export async function inferOnPool(pool: ServedPool, m: ModelInfo, request: InferRequest): Promise<InferResponse> {
  checkInputs(m, request.inputs);
  const outputNames = new Set(m.outputs.map((o) => o.name));
  const unknown = request.outputs?.find((o) => !outputNames.has(o.name));
  if (unknown) throw new InferServerError('invalid', `model "${m.name}" has no output "${unknown.name}" (outputs: ${[...outputNames].join(', ')})`);
  const inputs: RawTensor[] = request.inputs.map((t) => {
    // A copy into a buffer of its own: it is transferred to the worker.
    const bytes = valuesToBinary(t.datatype, t.values);
    const data = new Uint8Array(bytes.byteLength);
    data.set(bytes);
    return { name: t.name, type: ORT_TYPE_OF[t.datatype]!, dims: t.shape, data: data.buffer };
  });
  let answer;
  try {
    answer = await pool.runRaw(m.name, inputs);
  } catch (err) {
    if (err instanceof PoolUnavailableError) throw new InferServerError('unavailable', err.message);
    throw new InferServerError('invalid', `inference failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const wanted = request.outputs ? new Set(request.outputs.map((o) => o.name)) : undefined;
  const outputs: Tensor[] = answer.outputs
    .filter((o) => !wanted || wanted.has(o.name))
    .map((o) => {
      const datatype = DATATYPE[o.type] ?? 'FP32';
      return { name: o.name, datatype, shape: o.dims, values: valuesFromBinary(datatype, o.dims, new Uint8Array(o.data)) };
    });
  return { model_name: m.name, model_version: MODEL_VERSION, id: request.id, outputs };
}
