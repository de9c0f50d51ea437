import type { ErrorMessage, ResultMessage } from '@sightline/protocol';
import type { I420Frame } from '../models/i420.js';
import { drawBoxesI420 } from '../models/i420-draw.js';
import { LatestFrameSlot } from './latest-frame-slot.js';
import type { Processor, ProcessorContext, VideoFrame } from './processor.js';

export interface FramePipelineOptions {
  processor: Processor<unknown>;
  params: unknown;
  ctx: ProcessorContext;
  onResult: (msg: ResultMessage) => void;
  onError: (msg: ErrorMessage) => void;
  /** When this says yes, a copy of each frame is kept through processing and handed to `onFrameResult`. */
  wantsFrames?: () => boolean;
  /** The copy, already rendered by the processor (or with the boxes drawn). */
  onFrameResult?: (frame: I420Frame, msg: ResultMessage) => void;
  /** Most frames per second to process (the key's limit, read at every frame); frames beyond it are dropped. */
  maxFps?: () => number | undefined;
  /** Called once per frame pushed (before close) when the pipeline is done with it; feeds `frame_ack`. */
  onFrameDone?: (frameId: number, status: FrameStatus) => void;
}

/** How a frame left the pipeline. */
export type FrameStatus = 'processed' | 'dropped' | 'failed';

/** Optional facts about a pushed frame that the pipeline cannot know itself. */
export interface PushOptions {
  /** The client's id for the frame (encoded frames carry one); default: the decode index. */
  frameId?: number;
  /** The client's capture time, echoed in the result as `client_ts_ms`. */
  clientTsMs?: number;
}

/** Counters of one pipeline; every frame received ends up processed, failed or dropped (or is in the slot). */
export interface PipelineCounters {
  received: number;
  processed: number;
  failed: number;
  dropped: number;
}

interface Slotted {
  frame: VideoFrame;
  enqueuedAt: number;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

/**
 * One session's frames → processor → results. Frames are numbered in decode order. The latest-frame slot keeps at
 * most one frame waiting while the processor is busy; a newer frame replaces it and the replaced one is counted
 * as dropped. There is no other queue.
 */
export class FramePipeline {
  readonly #opts: FramePipelineOptions;
  #processor: Processor<unknown>;
  #params: unknown;
  readonly #slot = new LatestFrameSlot<Slotted>();
  #received = 0;
  #processed = 0;
  #failed = 0;
  #droppedAfterClose = 0;
  /** Frames dropped by the fps cap, and when the next may start (performance.now()). */
  #rateDropped = 0;
  #nextAllowedAt = 0;
  #closed = false;

  constructor(opts: FramePipelineOptions) {
    this.#opts = opts;
    this.#processor = opts.processor;
    this.#params = opts.params;
  }

  get processorName(): string {
    return this.#processor.name;
  }

  get params(): unknown {
    return this.#params;
  }

  /** Switches processor and/or params; the next frame to start uses them (a frame in process finishes as it was). */
  setProcessor(processor: Processor<unknown>, params: unknown): void {
    this.#processor = processor;
    this.#params = params;
  }

  get counters(): PipelineCounters {
    return {
      received: this.#received,
      processed: this.#processed,
      failed: this.#failed,
      dropped: this.#slot.dropped + this.#droppedAfterClose + this.#rateDropped,
    };
  }

  /** Hands a decoded frame to the pipeline. Never blocks, never queues more than one frame. */
  push(frame: I420Frame, opts: PushOptions = {}): void {
    const vf: VideoFrame = {
      width: frame.width,
      height: frame.height,
      data: frame.data,
      frameId: opts.frameId ?? this.#received,
      receivedAt: Date.now(),
      ...(opts.clientTsMs !== undefined ? { clientTsMs: opts.clientTsMs } : {}),
      ...(frame.rtpTimestamp !== undefined ? { rtpTimestamp: frame.rtpTimestamp } : {}),
    };
    this.#received++;
    if (this.#closed) {
      this.#droppedAfterClose++;
      return;
    }
    const now = performance.now();
    const fps = this.#opts.maxFps?.();
    if (fps !== undefined && fps > 0) {
      // A frame arriving before its time under the cap is dropped; the schedule keeps the average at or below it.
      if (now < this.#nextAllowedAt) {
        this.#rateDropped++;
        this.#opts.onFrameDone?.(vf.frameId, 'dropped');
        return;
      }
      const interval = 1000 / fps;
      this.#nextAllowedAt = Math.max(now, this.#nextAllowedAt + interval - interval / 2) + interval / 2;
    }
    const { start, dropped } = this.#slot.offer({ frame: vf, enqueuedAt: now });
    if (dropped) this.#opts.onFrameDone?.(dropped.frame.frameId, 'dropped');
    if (start) {
      this.#drain(start).catch((err: unknown) => {
        // onResult/onError threw: the session's sink is broken. Count the frame and keep the process alive.
        this.#failed++;
        console.error('sightline: frame pipeline callback failed', err);
      });
    }
  }

  async #drain(first: Slotted): Promise<void> {
    let item: Slotted | undefined = first;
    while (item && !this.#closed) {
      await this.#processOne(item);
      item = this.#closed ? undefined : this.#slot.complete();
    }
  }

  async #processOne({ frame, enqueuedAt }: Slotted): Promise<void> {
    const processor = this.#processor;
    const params = this.#params;
    const { ctx } = this.#opts;
    const started = performance.now();
    const { frameId, width, height, receivedAt } = frame;
    // The processor may hand the buffer to a worker: keep a copy only when someone watches the video.
    const copy = this.#opts.wantsFrames?.() ? { width, height, data: frame.data.slice() } : undefined;
    try {
      const out = await processor.process(frame, params, ctx);
      if (this.#closed) return;
      const done = performance.now();
      const msg: ResultMessage = {
        type: 'result',
        frame_id: frameId,
        boxes: out.boxes,
        width,
        height,
        processor: processor.name,
        timing: {
          received_ms: receivedAt,
          queue_ms: round2(started - enqueuedAt),
          inference_ms: round2(out.inferenceMs ?? done - started),
          total_ms: round2(done - enqueuedAt),
          ...(out.batchSize !== undefined ? { batch_size: out.batchSize } : {}),
          ...(out.stages
            ? { preprocess_ms: round2(out.stages.preprocessMs), model_ms: round2(out.stages.modelMs), decode_ms: round2(out.stages.decodeMs) }
            : {}),
        },
        dropped: this.#slot.dropped + this.#rateDropped,
        ...(out.labels ? { labels: out.labels } : {}),
        ...(out.data ? { data: out.data } : {}),
        ...(frame.clientTsMs !== undefined ? { client_ts_ms: frame.clientTsMs } : {}),
        ...(frame.rtpTimestamp !== undefined ? { rtp_timestamp: frame.rtpTimestamp } : {}),
      };
      this.#opts.onResult(msg);
      this.#processed++;
      this.#opts.onFrameDone?.(frameId, 'processed');
      if (copy) {
        if (processor.render) processor.render(copy, out, params);
        else
          drawBoxesI420(
            copy,
            msg.boxes.map((b) => b.box),
          );
        this.#opts.onFrameResult?.(copy, msg);
      }
    } catch (err) {
      if (this.#closed) return;
      this.#failed++;
      this.#opts.onError({
        type: 'error',
        code: 'processing_failed',
        message: `processor "${processor.name}" failed on frame ${frameId}: ${err instanceof Error ? err.message : String(err)}`,
        frame_id: frameId,
      });
      this.#opts.onFrameDone?.(frameId, 'failed');
    }
  }

  /** Stops processing; the frame waiting and the one in process (its result is not sent) count as dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#slot.busy) this.#droppedAfterClose++;
    this.#slot.clear();
  }
}
