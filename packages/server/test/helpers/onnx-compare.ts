import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { OnnxRunner } from '../../src/models/adapters/model-runner.js';
import type { InferResponse } from '../../src/kserve/infer-messages.js';

/** A deterministic FP32 input of `shape` (a smooth pattern, not all zeros, so that outputs differ). */
export function patternInput(shape: readonly number[]): Float32Array {
  return new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i) * 0.5);
}

/**
 * Asserts that a KServe answer holds what the same ONNX file gives when run here on `input`: every output's shape, and
 * its values within 1e-4.
 */
export async function assertSameAsLocalOnnx(file: string, inputName: string, input: Float32Array, shape: number[], res: InferResponse): Promise<void> {
  const local = await OnnxRunner.open(file, { device: 'cpu', intraOpNumThreads: 1 });
  const expected = await local.run({ [inputName]: new ort.Tensor('float32', input, shape) });
  await local.close();
  for (const o of res.outputs) {
    const e = expected[o.name]!;
    assert.deepEqual(o.shape, [...e.dims]);
    const got = o.values as Float32Array;
    const want = e.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    assert.ok(worst < 1e-4, `${o.name}: max difference ${worst}`);
  }
}
