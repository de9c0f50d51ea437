import type { Box } from '@sightline/protocol';
import type { DecodeParams } from '../models/detections.js';
import type { RunResult } from '../models/inference-pool.js';
import type { ProcessorOutput } from '../pipeline/processor.js';

const r1 = (v: number): number => Math.round(v * 10) / 10;
const r3 = (v: number): number => Math.round(v * 1000) / 1000;

/** A pool run as a processor output: boxes rounded to 0.1 px, scores to 0.001. */
export function toProcessorOutput(run: RunResult): ProcessorOutput {
  const boxes: Box[] = run.output.detections.map((d) => ({ class: d.label, score: r3(d.score), box: [r1(d.x), r1(d.y), r1(d.w), r1(d.h)] }));
  return {
    boxes,
    ...(run.output.labels ? { labels: run.output.labels.map((l) => ({ class: l.label, score: r3(l.score) })) } : {}),
    inferenceMs: run.inferenceMs,
    batchSize: run.batchSize,
    stages: run.stages,
  };
}

/** Class names → ids for a model's labels; unknown names are reported. */
export function classIdsOf(names: readonly string[] | undefined, labels: readonly string[] | null): number[] | undefined {
  if (!names || names.length === 0) return undefined;
  return names.map((n) => {
    const i = labels ? labels.indexOf(n) : Number.isInteger(Number(n)) ? Number(n) : -1;
    if (i < 0) throw new Error(`class "${n}" is not one of the model's labels`);
    return i;
  });
}

export function decodeParams(p: Partial<DecodeParams> & { minScore: number }): DecodeParams {
  return { iou: 0.45, maxDet: 100, topK: 5, ...p };
}
