import type { Box } from '@sightline/protocol';
import type { z } from 'zod';
import type { I420Frame } from '../models/i420.js';
import type { ModelInfo } from '../models/adapters/model-info.js';
import type { InferencePool } from '../models/inference-pool.js';

/** A decoded frame as it enters the pipeline. */
export interface VideoFrame extends I420Frame {
  /** Index among the frames this session decoded: 0, 1, 2, … */
  frameId: number;
  /** Unix epoch ms when the frame reached the pipeline. */
  receivedAt: number;
  /** Encoded frames: the client's capture time from the chunk header. */
  clientTsMs?: number;
  /** Frames of a video track, where the engine knows it: the RTP timestamp they were sent with. */
  rtpTimestamp?: number;
}

/** What a processor may use. */
export interface ProcessorContext {
  pool: InferencePool;
  sessionId: string;
}

/**
 * The least input that gives a processor its full quality: the size its model looks at and the frame rate that still
 * helps. The server turns it into `capture_hint` messages, so clients send (and the server decodes) no more.
 */
export interface CaptureNeed {
  /** The model's view, pixels; absent: any size. */
  width?: number;
  height?: number;
  /** `contain`: the model letterboxes (the picture fits in width × height); `cover`: it stretches (it covers it). */
  fit?: 'contain' | 'cover';
  /** Frames per second beyond which results get no better. */
  maxFps?: number;
}

/** What a loaded model looks at, as a capture need; undefined for an unknown model. */
export function modelCaptureNeed(model: ModelInfo | undefined, maxFps?: number): CaptureNeed | undefined {
  if (!model) return maxFps === undefined ? undefined : { maxFps };
  const { width, height, resize } = model.input;
  const sized = width > 0 && height > 0 ? { width, height, fit: resize === 'letterbox' ? ('contain' as const) : ('cover' as const) } : {};
  return { ...sized, ...(maxFps !== undefined ? { maxFps } : {}) };
}

/** What a processor returns for one frame. */
export interface ProcessorOutput {
  boxes: Box[];
  /** Classifiers: top labels. */
  labels?: Array<{ class: string; score: number }>;
  /** How many frames shared the model run (cross-session batching). */
  batchSize?: number;
  /** Stages of the model run, ms. */
  stages?: { preprocessMs: number; modelMs: number; decodeMs: number };
  /** Any extra JSON the processor wants to send with the result. */
  data?: Record<string, unknown>;
  /** Time spent in the model, if one ran. */
  inferenceMs?: number;
}

/**
 * The developer API: a named frame processor with a zod params schema (defaults included). `process` may run
 * on the main thread only when it is cheap; model work goes through `ctx.pool`. The frame's buffer may be handed
 * to a worker, so a processor must not keep it after `process` resolves.
 */
export interface Processor<P = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  readonly params: z.ZodType<P>;
  /** Models this processor can run (for discovery). */
  readonly models: readonly string[];
  process(frame: VideoFrame, params: P, ctx: ProcessorContext): Promise<ProcessorOutput> | ProcessorOutput;
  /**
   * Draws the processed picture into `frame` (a copy, in place) when the session sends video back. Default: the
   * result's boxes drawn in.
   */
  render?(frame: I420Frame, output: ProcessorOutput, params: P): void;
  /**
   * The input these params need at most (capture hints to the client); default: no hint. `model` looks up a loaded
   * model's input. Processors whose product is the picture itself (video back) should not declare one.
   */
  captureNeed?(params: P, model: (name: string) => ModelInfo | undefined): CaptureNeed | undefined;
  /** The model these params run (for per-key model limits); default: the only entry of `models`, if one. */
  modelFor?(params: P): string | undefined;
}

/** Type helper: infers P from the schema. */
export function defineProcessor<S extends z.ZodType>(p: Processor<z.output<S>> & { params: S }): Processor<z.output<S>> {
  return p;
}
