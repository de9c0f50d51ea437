import type { ErrorCode } from '@sightline/protocol';
import { decodeImageToI420, ImageDecodeError } from '../models/image-decode.js';
import type { I420Frame } from '../models/i420.js';
import { FrameAssembler } from '../pipeline/frame-assembler.js';

export interface EncodedFrameLimits {
  /** Largest encoded frame, bytes. */
  maxFrameBytes: number;
  /** Largest picture, pixels (width × height), checked from the image header before decoding. */
  maxPixels: number;
}

export interface EncodedFrameInputOptions extends EncodedFrameLimits {
  /** A decoded frame, in the order the frames completed. */
  onFrame: (frame: I420Frame, frameId: number, clientTsMs: number) => void;
  /** A frame that will not reach the pipeline: malformed, too large, not an image, or dropped before decoding. */
  onRejected: (frameId: number | undefined, code: ErrorCode | 'dropped', message: string) => void;
}

/** Frames waiting for the decoder; a client that ignores its ack window loses the oldest beyond this. */
const MAX_WAITING = 4;

/**
 * A session's JPEG/WebP frames arriving as chunk messages (DataChannel or WebSocket): reassembled, decoded one at
 * a time (libvips on the thread pool), and handed on as I420. Every frame ends in `onFrame` or `onRejected`.
 */
export class EncodedFrameInput {
  readonly #opts: EncodedFrameInputOptions;
  readonly #assembler: FrameAssembler;
  readonly #waiting: Array<{ frameId: number; timestampMs: number; bytes: Uint8Array }> = [];
  #decoding = false;
  #closed = false;
  #decoded = 0;
  #decodeFailed = 0;
  #droppedWaiting = 0;

  constructor(opts: EncodedFrameInputOptions) {
    this.#opts = opts;
    this.#assembler = new FrameAssembler({ maxFrameBytes: opts.maxFrameBytes });
  }

  /** Frames that never reached the pipeline, and why. */
  get counters(): { decoded: number; rejected: number; dropped: number; ignoredChunks: number } {
    const a = this.#assembler.counters;
    return { decoded: this.#decoded, rejected: a.rejected + this.#decodeFailed, dropped: this.#droppedWaiting, ignoredChunks: a.ignoredChunks };
  }

  /** One binary message from the client. */
  push(message: ArrayBuffer | Uint8Array): void {
    if (this.#closed) return;
    const { frame, rejected } = this.#assembler.add(message);
    for (const r of rejected) this.#opts.onRejected(r.frameId, r.code, r.message);
    if (!frame) return;
    this.#waiting.push(frame);
    while (this.#waiting.length > MAX_WAITING) {
      const old = this.#waiting.shift()!;
      this.#droppedWaiting++;
      this.#opts.onRejected(
        old.frameId,
        'dropped',
        `frame ${old.frameId} dropped before decoding: more than ${MAX_WAITING} frames waiting (keep fewer frames unacknowledged)`,
      );
    }
    if (!this.#decoding) void this.#decodeAll();
  }

  close(): void {
    this.#closed = true;
    this.#waiting.length = 0;
  }

  async #decodeAll(): Promise<void> {
    this.#decoding = true;
    try {
      for (let next = this.#waiting.shift(); next && !this.#closed; next = this.#waiting.shift()) {
        try {
          const img = await decodeImageToI420(next.bytes, this.#opts.maxPixels);
          if (this.#closed) return;
          this.#decoded++;
          this.#opts.onFrame(img, next.frameId, next.timestampMs);
        } catch (err) {
          if (this.#closed) return;
          this.#decodeFailed++;
          const e = err instanceof ImageDecodeError ? err : new ImageDecodeError(String(err), 'invalid_frame');
          this.#opts.onRejected(next.frameId, e.code, `frame ${next.frameId}: ${e.message}`);
        }
      }
    } finally {
      this.#decoding = false;
    }
  }
}
