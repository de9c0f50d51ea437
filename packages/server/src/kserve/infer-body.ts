/**
 * HTTP bodies of `POST /v2/models/{m}/infer` with the binary tensor data extension: the JSON object, then the binary
 * data of each tensor whose `parameters.binary_data_size` says so, in the order the JSON lists them. The
 * `Inference-Header-Content-Length` header gives the JSON's length; without it the whole body is JSON. Pure.
 */
import { TensorDataError } from './tensor-data.js';

/** The header that gives the JSON object's length in a body with binary tensor data. */
export const HEADER_LENGTH = 'inference-header-content-length';

/** A tensor entry of a request or response JSON, as far as the body's layout cares. */
export interface BinaryEntry {
  name: string;
  parameters?: { binary_data_size?: unknown } | undefined;
}

/** Serialises `json`, followed by `binary` (the tensors' bytes, in their JSON order). */
export function encodeInferBody(json: object, binary: readonly Uint8Array[]): { body: Uint8Array; headerLength: number | undefined } {
  const head = new TextEncoder().encode(JSON.stringify(json));
  if (binary.length === 0) return { body: head, headerLength: undefined };
  const body = new Uint8Array(head.byteLength + binary.reduce((a, b) => a + b.byteLength, 0));
  body.set(head);
  let at = head.byteLength;
  for (const b of binary) {
    body.set(b, at);
    at += b.byteLength;
  }
  return { body, headerLength: head.byteLength };
}

/** Splits a body into its JSON object and the binary data after it (`headerLength` from the header, if any). */
export function decodeInferBody(body: Uint8Array, headerLength: string | number | undefined): { json: unknown; binary: Uint8Array } {
  let n = body.byteLength;
  if (headerLength !== undefined && headerLength !== '') {
    n = Number(headerLength);
    if (!Number.isSafeInteger(n) || n < 0 || n > body.byteLength) {
      throw new TensorDataError(`${HEADER_LENGTH} ${JSON.stringify(String(headerLength))} is not a length within the body (${body.byteLength} bytes)`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(0, n)));
  } catch {
    throw new TensorDataError(`the first ${n} bytes of the body are not a JSON object`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TensorDataError('the inference header is not a JSON object');
  return { json, binary: body.subarray(n) };
}

/**
 * The binary data of each entry that has a `binary_data_size`, by name, cut from `binary` in order; throws unless
 * the sizes are non-negative integers adding up to exactly what follows the JSON.
 */
export function takeBinaryTensors(entries: readonly BinaryEntry[], binary: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let at = 0;
  for (const e of entries) {
    const size = e.parameters?.binary_data_size;
    if (size === undefined) continue;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      throw new TensorDataError(`tensor "${e.name}": binary_data_size must be a non-negative integer`);
    if (at + size > binary.byteLength)
      throw new TensorDataError(`tensor "${e.name}": binary_data_size ${size} goes past the body's binary data (${binary.byteLength} bytes)`);
    out.set(e.name, binary.subarray(at, at + size));
    at += size;
  }
  if (at !== binary.byteLength) throw new TensorDataError(`${binary.byteLength - at} bytes of binary data after the last binary tensor`);
  return out;
}
