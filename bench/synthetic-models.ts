import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, type NodeDef } from '../packages/server/test/helpers/onnx-builder.js';

/** Deterministic pseudo-random weights (no downloads, same model every run). */
function weights(n: number, scale: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

export interface ConvDetectorShape {
  /** Channels after each of the four stride-2 stages. */
  widths: [number, number, number, number];
  /** Extra stride-1 3x3 convolutions per stage. */
  repeats: number;
}

/** A tiny head-only network: pre/post-processing dominate (the worst case for pipeline overhead). */
export const TINY: ConvDetectorShape = { widths: [16, 32, 64, 64], repeats: 0 };
/** Roughly YOLOv8n's compute at 320 px (about 2 GFLOPs): what a real small detector costs. */
export const NANO: ConvDetectorShape = { widths: [32, 64, 128, 256], repeats: 1 };

/**
 * A YOLO-shaped detector with real compute: four stride-2 3x3 convolution stages (plus `repeats` stride-1 ones each)
 * and a 1x1 head to 84 channels (4 box + 80 classes) with a sigmoid, reshaped to `[N, 84, A]`. Dynamic batch.
 * Random weights (class biases -6, so few boxes pass): the boxes mean nothing, the cost is what is measured.
 */
export function writeConvDetector(size = 320, shape: ConvDetectorShape = TINY): string {
  const nodes: NodeDef[] = [];
  const inits = [];
  let x = 'images';
  let cin = 3;
  let k = 0;
  const conv = (cout: number, stride: number): void => {
    inits.push({ name: `w${k}`, dims: [cout, cin, 3, 3], data: weights(cout * cin * 9, Math.sqrt(2 / (cin * 9)), k + 1) });
    inits.push({ name: `b${k}`, dims: [cout], data: new Float32Array(cout) });
    nodes.push({
      op: 'Conv',
      inputs: [x, `w${k}`, `b${k}`],
      outputs: [`c${k}`],
      attrs: { kernel_shape: [3, 3], strides: [stride, stride], pads: [1, 1, 1, 1] },
    });
    nodes.push({ op: 'Relu', inputs: [`c${k}`], outputs: [`r${k}`] });
    x = `r${k}`;
    cin = cout;
    k++;
  };
  for (const width of shape.widths) {
    conv(width, 2);
    for (let r = 0; r < shape.repeats; r++) conv(width, 1);
  }
  const last = cin;
  const headBias = new Float32Array(84);
  headBias.fill(-6, 4);
  inits.push({ name: 'wh', dims: [84, last, 1, 1], data: weights(84 * last, 0.05, 99) });
  inits.push({ name: 'bh', dims: [84], data: headBias });
  inits.push({ name: 'shape', dims: [3], data: BigInt64Array.from([0n, 84n, -1n]) });
  nodes.push({ op: 'Conv', inputs: [x, 'wh', 'bh'], outputs: ['head'], attrs: { kernel_shape: [1, 1] } });
  nodes.push({ op: 'Sigmoid', inputs: ['head'], outputs: ['head_s'] });
  nodes.push({ op: 'Reshape', inputs: ['head_s', 'shape'], outputs: ['output0'] });
  const a = (size / 16) ** 2;
  const bytes = buildModel({
    inputs: [{ name: 'images', type: 'float32', shape: ['N', 3, size, size] }],
    outputs: [{ name: 'output0', type: 'float32', shape: ['N', 84, a] }],
    initializers: inits,
    nodes,
    metadata: { task: 'detect', imgsz: `[${size}, ${size}]` },
  });
  const file = join(mkdtempSync(join(tmpdir(), 'sightline-bench-')), `conv-detector-${shape.widths.join('-')}-${size}.onnx`);
  writeFileSync(file, bytes);
  return file;
}
