/**
 * Inference requests and responses of the Open Inference Protocol (KServe v2) over HTTP/REST, to and from bodies:
 * JSON `data` or the binary tensor data extension, for both sides (the client that sends frames to Triton or
 * `sightline infer-server`, and that server). Pure; malformed input throws `TensorDataError` with a message fit for
 * a 400.
 */
import { z } from 'zod';
import { decodeInferBody, encodeInferBody, takeBinaryTensors } from './infer-body.js';
import { DATATYPES, TensorDataError, valuesFromBinary, valuesFromJson, valuesToBinary, valuesToJson, type Datatype, type TensorValues } from './tensor-data.js';

/** A named tensor with its values (flat, row major). */
export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  values: TensorValues;
}

export interface InferRequest {
  id?: string | undefined;
  inputs: Tensor[];
  /** Outputs asked for (all when absent), and whether each comes back as binary data. */
  outputs?: Array<{ name: string; binary: boolean }> | undefined;
  /** Default for outputs not listed: binary data (`binary_data_output`). */
  binaryOutputs?: boolean | undefined;
}

export interface InferResponse {
  model_name: string;
  model_version?: string | undefined;
  id?: string | undefined;
  outputs: Tensor[];
}

const Parameters = z.record(z.string(), z.unknown()).optional();
const Shape = z.array(z.number().int().nonnegative()).max(16);
const TensorJson = z.object({
  name: z.string().min(1).max(256),
  shape: Shape,
  datatype: z.enum(DATATYPES),
  parameters: Parameters,
  data: z.unknown().optional(),
});
const RequestJson = z.object({
  id: z.string().max(256).optional(),
  parameters: Parameters,
  inputs: z.array(TensorJson).min(1).max(64),
  outputs: z
    .array(z.object({ name: z.string().min(1).max(256), parameters: Parameters }))
    .max(64)
    .optional(),
});
const ResponseJson = z.object({
  // Required by the protocol, yet its own response examples leave it out: read leniently.
  model_name: z.string().default(''),
  model_version: z.string().optional(),
  id: z.string().optional(),
  parameters: Parameters,
  outputs: z.array(TensorJson),
});

function parse<T>(schema: z.ZodType<T>, json: unknown, what: string): T {
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new TensorDataError(`${what}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}

/** Each tensor's values from its binary data or its JSON `data`. */
function tensorsOf(entries: z.infer<typeof TensorJson>[], binary: Uint8Array): Tensor[] {
  const bytes = takeBinaryTensors(entries, binary);
  const seen = new Set<string>();
  return entries.map((e) => {
    if (seen.has(e.name)) throw new TensorDataError(`tensor "${e.name}" is given twice`);
    seen.add(e.name);
    const b = bytes.get(e.name);
    if (b !== undefined && e.data !== undefined) throw new TensorDataError(`tensor "${e.name}" has both binary data and JSON data`);
    if (b === undefined && e.data === undefined) throw new TensorDataError(`tensor "${e.name}" has no data`);
    try {
      const values = b !== undefined ? valuesFromBinary(e.datatype, e.shape, b) : valuesFromJson(e.datatype, e.shape, e.data);
      return { name: e.name, datatype: e.datatype, shape: e.shape, values };
    } catch (err) {
      throw new TensorDataError(`tensor "${e.name}": ${(err as Error).message}`);
    }
  });
}

/** A tensor's JSON entry, with its values inline or as the next binary part. */
function entryOf(t: Tensor, binary: boolean, parts: Uint8Array[]): object {
  if (!binary) return { name: t.name, datatype: t.datatype, shape: t.shape, data: valuesToJson(t.datatype, t.values) };
  const bytes = valuesToBinary(t.datatype, t.values);
  parts.push(bytes);
  return { name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: bytes.byteLength } };
}

/** Client side: a request body, its inputs as binary data when `binaryInputs` (else JSON `data`). */
export function encodeInferRequest(req: InferRequest, binaryInputs = true): { body: Uint8Array; headerLength: number | undefined } {
  const parts: Uint8Array[] = [];
  const json = {
    ...(req.id !== undefined ? { id: req.id } : {}),
    ...(req.binaryOutputs !== undefined ? { parameters: { binary_data_output: req.binaryOutputs } } : {}),
    inputs: req.inputs.map((t) => entryOf(t, binaryInputs, parts)),
    ...(req.outputs ? { outputs: req.outputs.map((o) => ({ name: o.name, parameters: { binary_data: o.binary } })) } : {}),
  };
  return encodeInferBody(json, parts);
}

/** Server side: a request from its body. */
export function decodeInferRequest(body: Uint8Array, headerLength: string | number | undefined): InferRequest {
  const { json, binary } = decodeInferBody(body, headerLength);
  const r = parse(RequestJson, json, 'inference request');
  const binaryOutputs = r.parameters?.binary_data_output;
  if (binaryOutputs !== undefined && typeof binaryOutputs !== 'boolean') throw new TensorDataError('parameters.binary_data_output must be true or false');
  const outputs = r.outputs?.map((o) => {
    const b = o.parameters?.binary_data;
    if (b !== undefined && typeof b !== 'boolean') throw new TensorDataError(`output "${o.name}": parameters.binary_data must be true or false`);
    return { name: o.name, binary: b ?? binaryOutputs ?? false };
  });
  return { id: r.id, inputs: tensorsOf(r.inputs, binary), outputs, binaryOutputs };
}

/** Server side: a response body; each output binary or JSON as the request asked. */
export function encodeInferResponse(
  res: InferResponse,
  req: Pick<InferRequest, 'outputs' | 'binaryOutputs'>,
): { body: Uint8Array; headerLength: number | undefined } {
  const parts: Uint8Array[] = [];
  const asked = new Map(req.outputs?.map((o) => [o.name, o.binary]));
  const outputs = res.outputs.map((t) => entryOf(t, asked.get(t.name) ?? req.binaryOutputs ?? false, parts));
  const json = {
    model_name: res.model_name,
    ...(res.model_version !== undefined ? { model_version: res.model_version } : {}),
    ...(res.id !== undefined ? { id: res.id } : {}),
    outputs,
  };
  return encodeInferBody(json, parts);
}

/** Client side: a response from its body. */
export function decodeInferResponse(body: Uint8Array, headerLength: string | number | undefined): InferResponse {
  const { json, binary } = decodeInferBody(body, headerLength);
  const r = parse(ResponseJson, json, 'inference response');
  return { model_name: r.model_name, model_version: r.model_version, id: r.id, outputs: tensorsOf(r.outputs, binary) };
}
