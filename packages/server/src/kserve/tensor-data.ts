/**
 * Tensor data of the Open Inference Protocol (KServe v2): its datatypes, and values to and from the JSON `data`
 * array and the binary tensor data extension (little-endian, row major, no padding; BOOL one byte; BYTES elements a
 * 4-byte little-endian length, then the bytes). Pure; throws `TensorDataError` on anything malformed.
 */

export const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type Datatype = (typeof DATATYPES)[number];

/**
 * A tensor's values, flat and row major: typed arrays of the datatype's width (BOOL as 0/1 bytes, FP16 as its raw
 * 16-bit patterns, the 64-bit integers as BigInt arrays), BYTES as one Uint8Array per element.
 */
export type TensorValues =
  Uint8Array | Uint16Array | Uint32Array | BigUint64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array | Uint8Array[];

export class TensorDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TensorDataError';
  }
}

type FixedCtor = { new (buffer: ArrayBuffer, byteOffset?: number, length?: number): Exclude<TensorValues, Uint8Array[]>; BYTES_PER_ELEMENT: number };

const FIXED: Record<Exclude<Datatype, 'BYTES'>, FixedCtor> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/**
 * onnxruntime's element type name for each datatype (BYTES has none: strings are not run here), and back: what a
 * media node's adapters read from a remote model and what the infer-server's workers are given.
 */
export const ORT_TYPE_OF: Readonly<Partial<Record<Datatype, string>>> = {
  FP32: 'float32',
  FP64: 'float64',
  UINT8: 'uint8',
  INT8: 'int8',
  UINT16: 'uint16',
  INT16: 'int16',
  INT32: 'int32',
  UINT32: 'uint32',
  INT64: 'int64',
  UINT64: 'uint64',
  BOOL: 'bool',
  FP16: 'float16',
};
export const DATATYPE_OF_ORT: Readonly<Record<string, Datatype>> = Object.fromEntries(Object.entries(ORT_TYPE_OF).map(([k, v]) => [v, k as Datatype]));

export function isDatatype(v: unknown): v is Datatype {
  return typeof v === 'string' && (DATATYPES as readonly string[]).includes(v);
}

/** Bytes per element, or undefined for BYTES (variable). */
export function elementSize(dt: Datatype): number | undefined {
  return dt === 'BYTES' ? undefined : FIXED[dt].BYTES_PER_ELEMENT;
}

/** Elements in a tensor of `shape` (each dimension a non-negative integer; at most 2^31 elements). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new TensorDataError(`shape ${JSON.stringify(shape)}: dimensions must be non-negative integers`);
    n *= d;
    if (n > 2 ** 31) throw new TensorDataError(`shape ${JSON.stringify(shape)} has more than 2^31 elements`);
  }
  return n;
}

/** Values from the binary tensor data extension; `bytes` must hold exactly the tensor. */
export function valuesFromBinary(dt: Datatype, shape: readonly number[], bytes: Uint8Array): TensorValues {
  const count = elementCount(shape);
  if (dt === 'BYTES') {
    const out: Uint8Array[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (at + 4 > bytes.byteLength) throw new TensorDataError(`BYTES tensor: element ${i} of ${count} is missing`);
      const len = view.getUint32(at, true);
      at += 4;
      if (at + len > bytes.byteLength) throw new TensorDataError(`BYTES tensor: element ${i} says ${len} bytes, past the data`);
      out.push(bytes.slice(at, at + len));
      at += len;
    }
    if (at !== bytes.byteLength) throw new TensorDataError(`BYTES tensor: ${bytes.byteLength - at} bytes after its ${count} elements`);
    return out;
  }
  const ctor = FIXED[dt];
  const expected = count * ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength !== expected) {
    throw new TensorDataError(`${dt} tensor of shape ${JSON.stringify(shape)} is ${expected} bytes; got ${bytes.byteLength}`);
  }
  // A copy: aligned for the typed array, and independent of the request body.
  const copy = new Uint8Array(expected);
  copy.set(bytes);
  const values = new ctor(copy.buffer, 0, count);
  if (dt === 'BOOL' && (values as Uint8Array).some((b) => b > 1)) throw new TensorDataError('BOOL tensor: each byte must be 0 or 1');
  return values;
}

/** The binary tensor data extension's bytes of `values` (little-endian hosts: the typed array's own bytes). */
export function valuesToBinary(dt: Datatype, values: TensorValues): Uint8Array {
  if (dt === 'BYTES') {
    const elements = values as Uint8Array[];
    const out = new Uint8Array(elements.reduce((a, e) => a + 4 + e.byteLength, 0));
    const view = new DataView(out.buffer);
    let at = 0;
    for (const e of elements) {
      view.setUint32(at, e.byteLength, true);
      out.set(e, at + 4);
      at += 4 + e.byteLength;
    }
    return out;
  }
  const v = values as Exclude<TensorValues, Uint8Array[]>;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Values from a JSON `data` array (flat, or nested as the shape: both are allowed). */
export function valuesFromJson(dt: Datatype, shape: readonly number[], data: unknown): TensorValues {
  const count = elementCount(shape);
  const flat = Array.isArray(data) ? (data.flat(Infinity) as unknown[]) : [data];
  if (flat.length !== count) throw new TensorDataError(`tensor of shape ${JSON.stringify(shape)} has ${count} elements; data has ${flat.length}`);
  if (dt === 'BYTES') {
    return flat.map((e, i) => {
      if (typeof e !== 'string') throw new TensorDataError(`BYTES data element ${i} is not a string`);
      return new TextEncoder().encode(e);
    });
  }
  if (dt === 'FP16') throw new TensorDataError('FP16 has no JSON representation: send it as binary data');
  const ctor = FIXED[dt];
  const out = new ctor(new ArrayBuffer(count * ctor.BYTES_PER_ELEMENT), 0, count);
  for (let i = 0; i < count; i++) {
    const e = flat[i];
    if (dt === 'BOOL') {
      if (typeof e !== 'boolean') throw new TensorDataError(`BOOL data element ${i} is not true or false`);
      out[i] = e ? 1 : 0;
    } else if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
      if (typeof e !== 'number' || !Number.isInteger(e)) throw new TensorDataError(`${dt} data element ${i} is not an integer`);
      out[i] = BigInt(e);
      if (out[i] !== BigInt(e)) throw new TensorDataError(`${dt} data element ${i} (${e}) is out of range`);
    } else {
      if (typeof e !== 'number' || (dt !== 'FP32' && dt !== 'FP64' && !Number.isInteger(e))) {
        throw new TensorDataError(`${dt} data element ${i} is not ${dt.startsWith('FP') ? 'a number' : 'an integer'}`);
      }
      out[i] = e;
      if (dt !== 'FP32' && dt !== 'FP64' && out[i] !== e) throw new TensorDataError(`${dt} data element ${i} (${e}) is out of range`);
    }
  }
  return out;
}

/** A JSON `data` array of `values` (flat, row major). */
export function valuesToJson(dt: Datatype, values: TensorValues): Array<number | boolean | string> {
  if (dt === 'BYTES') return (values as Uint8Array[]).map((e) => new TextDecoder().decode(e));
  if (dt === 'FP16') throw new TensorDataError('FP16 has no JSON representation: ask for it as binary data');
  if (dt === 'BOOL') return Array.from(values as Uint8Array, (b) => b === 1);
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return Array.from(values, (b) => Number(b));
  return Array.from(values as ArrayLike<number>);
}
