/**
 * Inference requests and responses of the Open Inference Protocol (KServe v2) over gRPC, to and from the messages of
 * `proto/grpc_predict_v2.proto` as proto-loader gives them (`grpc-proto.ts`'s options), for both sides: the client
 * that sends frames to Triton or `sightline infer-server`, and that server. Sightline sends tensors as raw contents
 * (`raw_input_contents`, `raw_output_contents`: the bytes of HTTP's binary tensor data, BYTES length-prefixed, BOOL one
 * byte) and reads raw contents or the typed `contents` another client or server may use. Pure; malformed input throws
 * `TensorDataError` with a message fit for INVALID_ARGUMENT.
 */
import type { InferRequest, InferResponse, Tensor } from './infer-messages.js';
import {
  elementCount,
  isDatatype,
  TensorDataError,
  valuesFromBinary,
  valuesFromJson,
  valuesToBinary,
  type Datatype,
  type TensorValues,
} from './tensor-data.js';

/** An int64 field: a decimal string as read (`longs: String`); the encoder takes numbers too. */
export type Int64 = string | number;

export interface GrpcInferParameter {
  bool_param?: boolean;
  int64_param?: Int64;
  string_param?: string;
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param';
}
export type GrpcParameters = Record<string, GrpcInferParameter>;

/** `InferTensorContents`: a tensor's values in the repeated field of its datatype. */
export interface GrpcTensorContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: Int64[];
  uint_contents?: number[];
  uint64_contents?: Int64[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
}

/** `InferInputTensor` and `InferOutputTensor` (the same fields). */
export interface GrpcTensor {
  name: string;
  datatype: string;
  shape: Int64[];
  parameters?: GrpcParameters;
  contents?: GrpcTensorContents | null;
}

export interface GrpcInferRequest {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: GrpcParameters;
  inputs: GrpcTensor[];
  outputs?: Array<{ name: string; parameters?: GrpcParameters }>;
  raw_input_contents?: Uint8Array[];
}

export interface GrpcInferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: GrpcParameters;
  outputs: GrpcTensor[];
  raw_output_contents?: Uint8Array[];
}

export interface GrpcTensorMetadata {
  name: string;
  datatype: string;
  shape: Int64[];
}

export interface GrpcModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: GrpcTensorMetadata[];
  outputs: GrpcTensorMetadata[];
}

// The bounds HTTP's request schema sets (infer-messages.ts): a request is refused the same over either protocol.
const MAX_TENSORS = 64;
const MAX_DIMS = 16;
const MAX_NAME = 256;

/** The `InferTensorContents` field of each datatype; FP16 has none (raw contents only, as the proto says). */
const CONTENTS_FIELD: Record<Exclude<Datatype, 'FP16'>, keyof GrpcTensorContents> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

function hasContents(c: GrpcTensorContents | null | undefined): boolean {
  return !!c && Object.values(c).some((v) => Array.isArray(v) && v.length > 0);
}

/** Values from a tensor's typed `contents`; each element checked against the datatype's range. */
export function valuesFromContents(dt: Datatype, shape: readonly number[], contents: GrpcTensorContents | null | undefined): TensorValues {
  const count = elementCount(shape);
  if (dt === 'FP16') throw new TensorDataError('FP16 has no typed contents: send it as raw contents');
  const field = CONTENTS_FIELD[dt];
  const list: readonly unknown[] = contents?.[field] ?? [];
  if (list.length !== count)
    throw new TensorDataError(`${dt} tensor of shape ${JSON.stringify(shape)} has ${count} elements; contents.${field} has ${list.length}`);
  if (dt === 'BYTES') {
    // Copies: the elements outlive the message's buffer.
    return (list as Uint8Array[]).map((b) => new Uint8Array(b));
  }
  if (dt === 'INT64' || dt === 'UINT64') {
    // Decimal strings as read, so values past 2^53 stay exact; the typed array's wrap-around shows one out of range.
    const out = dt === 'INT64' ? new BigInt64Array(count) : new BigUint64Array(count);
    for (let i = 0; i < count; i++) {
      let v: bigint;
      try {
        v = BigInt(list[i] as string | number);
      } catch {
        throw new TensorDataError(`${dt} contents element ${i} is not an integer`);
      }
      out[i] = v;
      if (out[i] !== v) throw new TensorDataError(`${dt} contents element ${i} (${v}) is out of range`);
    }
    return out;
  }
  // The other fields hold plain booleans and numbers: the JSON `data` reader checks them the same way.
  return valuesFromJson(dt, shape, list);
}

/**
 * Each tensor's values from its raw contents (`raw`, one entry per tensor in order, when any) or its typed
 * `contents`; never both, as the proto says.
 */
function tensorsOf(entries: readonly GrpcTensor[], raw: readonly Uint8Array[], what: 'input' | 'output', rawField: string): Tensor[] {
  if (entries.length > MAX_TENSORS) throw new TensorDataError(`${entries.length} ${what}s: at most ${MAX_TENSORS}`);
  if (raw.length > 0 && raw.length !== entries.length) throw new TensorDataError(`${rawField} has ${raw.length} entries for ${entries.length} ${what}s`);
  const seen = new Set<string>();
  return entries.map((e, i) => {
    if (typeof e.name !== 'string' || e.name === '' || e.name.length > MAX_NAME)
      throw new TensorDataError(`${what}s[${i}]: a name of 1 to ${MAX_NAME} characters is needed`);
    const label = `${what} "${e.name}"`;
    if (seen.has(e.name)) throw new TensorDataError(`${label} is given twice`);
    seen.add(e.name);
    if (!isDatatype(e.datatype)) throw new TensorDataError(`${label}: datatype ${JSON.stringify(String(e.datatype).slice(0, 20))} is not a protocol datatype`);
    const shape = (e.shape ?? []).map(Number);
    if (shape.length > MAX_DIMS) throw new TensorDataError(`${label}: shape has ${shape.length} dimensions; at most ${MAX_DIMS}`);
    try {
      if (raw.length > 0) {
        if (hasContents(e.contents)) throw new TensorDataError(`contents and ${rawField} are both given`);
        return { name: e.name, datatype: e.datatype, shape, values: valuesFromBinary(e.datatype, shape, raw[i]!) };
      }
      return { name: e.name, datatype: e.datatype, shape, values: valuesFromContents(e.datatype, shape, e.contents) };
    } catch (err) {
      throw new TensorDataError(`${label}: ${(err as Error).message}`);
    }
  });
}

/** Client side: a request for `model`, every input as raw contents. */
export function encodeGrpcInferRequest(req: InferRequest, model: string, version?: string): GrpcInferRequest {
  return {
    model_name: model,
    model_version: version ?? '',
    id: req.id ?? '',
    inputs: req.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
    // The binary flag of each output is HTTP's; over gRPC outputs come as raw contents (or typed) whatever is asked.
    outputs: (req.outputs ?? []).map((o) => ({ name: o.name })),
    raw_input_contents: req.inputs.map((t) => valuesToBinary(t.datatype, t.values)),
  };
}

/** Server side: a request's id, inputs and the outputs it asks for (the model and version are the caller's). */
export function decodeGrpcInferRequest(msg: GrpcInferRequest): InferRequest {
  const inputs = msg.inputs ?? [];
  if (inputs.length === 0) throw new TensorDataError('inputs: at least one input is needed');
  if ((msg.id ?? '').length > MAX_NAME) throw new TensorDataError(`id: at most ${MAX_NAME} characters`);
  const asked = msg.outputs ?? [];
  if (asked.length > MAX_TENSORS) throw new TensorDataError(`${asked.length} outputs asked: at most ${MAX_TENSORS}`);
  for (const [i, o] of asked.entries()) {
    if (typeof o.name !== 'string' || o.name === '' || o.name.length > MAX_NAME)
      throw new TensorDataError(`outputs[${i}]: a name of 1 to ${MAX_NAME} characters is needed`);
  }
  return {
    id: msg.id ? msg.id : undefined,
    inputs: tensorsOf(inputs, msg.raw_input_contents ?? [], 'input', 'raw_input_contents'),
    outputs: asked.length > 0 ? asked.map((o) => ({ name: o.name, binary: true })) : undefined,
  };
}

/** Server side: a response, every output as raw contents (as Triton answers). */
export function encodeGrpcInferResponse(res: InferResponse): GrpcInferResponse {
  return {
    model_name: res.model_name,
    model_version: res.model_version ?? '',
    id: res.id ?? '',
    outputs: res.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
    raw_output_contents: res.outputs.map((t) => valuesToBinary(t.datatype, t.values)),
  };
}

/** Client side: a response, its outputs from raw contents or typed contents. */
export function decodeGrpcInferResponse(msg: GrpcInferResponse): InferResponse {
  return {
    model_name: msg.model_name ?? '',
    model_version: msg.model_version ? msg.model_version : undefined,
    id: msg.id ? msg.id : undefined,
    outputs: tensorsOf(msg.outputs ?? [], msg.raw_output_contents ?? [], 'output', 'raw_output_contents'),
  };
}
