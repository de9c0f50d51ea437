/**
 * Builds small ONNX models in tests, so real onnxruntime inference runs without downloadable weights. A minimal
 * protobuf writer for the parts of onnx.proto used here (ModelProto, GraphProto, NodeProto, TensorProto, …).
 */

class Writer {
  readonly parts: number[] = [];
  varint(v: number | bigint): this {
    let n = BigInt.asUintN(64, BigInt(v));
    while (n >= 0x80n) {
      this.parts.push(Number((n & 0x7fn) | 0x80n));
      n >>= 7n;
    }
    this.parts.push(Number(n));
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }
  int(field: number, v: number | bigint): this {
    return this.tag(field, 0).varint(v);
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  msg(field: number, w: Writer): this {
    return this.bytes(field, w.done());
  }
  float(field: number, f: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(new Float32Array([f]).buffer);
    for (const x of b) this.parts.push(x);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export type Dim = number | string;
export type ElemType = 'float32' | 'uint8' | 'int64';
const ELEM: Record<ElemType, number> = { float32: 1, uint8: 2, int64: 7 };

export interface ValueDef {
  name: string;
  type: ElemType;
  shape: Dim[];
}

export interface NodeDef {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, number | number[] | string>;
}

export interface InitDef {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

function valueInfo(v: ValueDef): Writer {
  const shape = new Writer();
  for (const d of v.shape) shape.msg(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().str(2, d));
  const tensorType = new Writer().int(1, ELEM[v.type]).msg(2, shape);
  return new Writer().str(1, v.name).msg(2, new Writer().msg(1, tensorType));
}

function tensor(t: InitDef): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.data instanceof Float32Array ? 1 : 7);
  w.str(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return w;
}

function node(n: NodeDef, i: number): Writer {
  const w = new Writer();
  for (const x of n.inputs) w.str(1, x);
  for (const x of n.outputs) w.str(2, x);
  w.str(3, `${n.op}_${i}`);
  w.str(4, n.op);
  for (const [name, v] of Object.entries(n.attrs ?? {})) {
    const a = new Writer().str(1, name);
    if (typeof v === 'string') a.bytes(4, new TextEncoder().encode(v)).int(20, 3);
    else if (Array.isArray(v)) {
      for (const x of v) a.int(8, x);
      a.int(20, 7);
    } else if (Number.isInteger(v)) a.int(3, v).int(20, 2);
    else a.float(2, v).int(20, 1);
    w.msg(5, a);
  }
  return w;
}

/** An ONNX model (IR 8, opset 13) as bytes. */
export function buildModel(graph: {
  inputs: ValueDef[];
  outputs: ValueDef[];
  nodes: NodeDef[];
  initializers?: InitDef[];
  metadata?: Record<string, string>;
}): Uint8Array {
  const g = new Writer();
  graph.nodes.forEach((n, i) => g.msg(1, node(n, i)));
  g.str(2, 'sightline_test');
  for (const t of graph.initializers ?? []) g.msg(5, tensor(t));
  for (const v of graph.inputs) g.msg(11, valueInfo(v));
  for (const v of graph.outputs) g.msg(12, valueInfo(v));
  const m = new Writer().int(1, 8).str(2, 'sightline-tests').msg(7, g).msg(8, new Writer().str(1, '').int(2, 13));
  for (const [k, v] of Object.entries(graph.metadata ?? {})) m.msg(14, new Writer().str(1, k).str(2, v));
  return m.done();
}

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);

export interface HeadDef {
  name: string;
  /** Declared output shape, batch first (e.g. ['N', 6, 4]). */
  shape: Dim[];
  /** Values for one batch item, nested as the shape after the batch dimension (one value for a rank-1 output). */
  values: unknown[];
}

/**
 * A graph whose outputs are constant heads broadcast to the input's batch size: out = head + 0·mean(input), so the
 * batch dimension follows the input (dynamic when the input's is). Real onnxruntime runs it like any model.
 */
export function constantHeadsModel(input: ValueDef, heads: HeadDef[], metadata?: Record<string, string>): Uint8Array {
  const nodes: NodeDef[] = input.type === 'float32' ? [] : [{ op: 'Cast', inputs: [input.name], outputs: ['x_f'], attrs: { to: 1 } }];
  const x = input.type === 'float32' ? input.name : 'x_f';
  nodes.push({ op: 'ReduceMean', inputs: [x], outputs: ['m'], attrs: { axes: [1, 2, 3], keepdims: 0 } });
  nodes.push({ op: 'Mul', inputs: ['m', 'zero'], outputs: ['z'] });
  const initializers: InitDef[] = [{ name: 'zero', dims: [1], data: f32([0]) }];
  heads.forEach((h, i) => {
    // A rank-1 output ([N]) has one value per batch item.
    const dims = h.shape.length === 1 ? [1] : [1, ...shapeOf(h.values)];
    initializers.push({ name: `head_${i}`, dims, data: f32((h.values as unknown[]).flat(3) as number[]) });
    const tail = dims.length - 1;
    if (tail === 0) {
      nodes.push({ op: 'Add', inputs: ['z', `head_${i}`], outputs: [h.name] });
      return;
    }
    initializers.push({ name: `axes_${i}`, dims: [tail], data: BigInt64Array.from(Array.from({ length: tail }, (_, k) => BigInt(k + 1))) });
    // z: [N] → [N, 1, …] so that it broadcasts against the head [1, …].
    nodes.push({ op: 'Unsqueeze', inputs: ['z', `axes_${i}`], outputs: [`z_${i}`] });
    nodes.push({ op: 'Add', inputs: [`z_${i}`, `head_${i}`], outputs: [h.name] });
  });
  return buildModel({
    inputs: [input],
    outputs: heads.map((h) => ({ name: h.name, type: 'float32' as const, shape: h.shape })),
    initializers,
    nodes,
    ...(metadata ? { metadata } : {}),
  });
}

/** A classifier `[N, 3, H, W]` → `[N, C]`: logits = spatial mean of each channel · W (3 x C). */
export function meanColourClassifier(size: number, weights: number[][], metadata?: Record<string, string>, batch: Dim = 'N'): Uint8Array {
  return buildModel({
    inputs: [{ name: 'images', type: 'float32', shape: [batch, 3, size, size] }],
    outputs: [{ name: 'logits', type: 'float32', shape: [batch, weights[0]!.length] }],
    initializers: [{ name: 'W', dims: [3, weights[0]!.length], data: f32(weights.flat()) }],
    nodes: [
      { op: 'ReduceMean', inputs: ['images'], outputs: ['m'], attrs: { axes: [2, 3], keepdims: 0 } },
      { op: 'MatMul', inputs: ['m', 'W'], outputs: ['logits'] },
    ],
    ...(metadata ? { metadata } : {}),
  });
}

function shapeOf(a: unknown): number[] {
  const dims: number[] = [];
  let cur: unknown = a;
  while (Array.isArray(cur)) {
    dims.push(cur.length);
    cur = cur[0];
  }
  return dims;
}
