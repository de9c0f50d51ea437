import { parseFrameChunk } from '@sightline/protocol';

export interface AssembledFrame {
  frameId: number;
  timestampMs: number;
  bytes: Uint8Array;
}

export interface RejectedFrame {
  /** Absent when the chunk was too malformed to name its frame. */
  frameId?: number;
  code: 'invalid_frame' | 'frame_too_large';
  message: string;
}

export interface FrameAssemblerOptions {
  /** Largest encoded frame accepted, bytes. */
  maxFrameBytes: number;
  /** Frames being assembled at once; a newer one beyond this evicts (rejects) the oldest. */
  maxPartialFrames?: number;
}

interface Partial {
  count: number;
  timestampMs: number;
  chunks: Array<Uint8Array | undefined>;
  received: number;
  bytes: number;
}

/**
 * Puts chunked frames (see protocol's frame-chunks.ts) back together: a pure state machine, no timers or I/O.
 * Every chunk either completes a frame, waits for the rest of its frame, or is rejected with a reason; the chunks
 * still to come of a frame already rejected are counted in `ignoredChunks`. After them, the frame id is free again:
 * a client that reuses ids gets its next frame assembled (and acknowledged), not ignored.
 */
export class FrameAssembler {
  readonly #maxBytes: number;
  readonly #maxPartial: number;
  readonly #partial = new Map<number, Partial>();
  /** Recently rejected frames (at most 16): id → how many of its chunks may still arrive, to be ignored. */
  readonly #recentlyRejected = new Map<number, number>();
  #chunks = 0;
  #frames = 0;
  #rejected = 0;
  #ignoredChunks = 0;

  constructor(opts: FrameAssemblerOptions) {
    this.#maxBytes = opts.maxFrameBytes;
    this.#maxPartial = opts.maxPartialFrames ?? 4;
  }

  get counters(): { chunks: number; frames: number; rejected: number; ignoredChunks: number; partial: number } {
    return { chunks: this.#chunks, frames: this.#frames, rejected: this.#rejected, ignoredChunks: this.#ignoredChunks, partial: this.#partial.size };
  }

  /** Takes one binary message. */
  add(message: ArrayBuffer | Uint8Array): { frame?: AssembledFrame; rejected: RejectedFrame[] } {
    this.#chunks++;
    const chunk = parseFrameChunk(message);
    if ('error' in chunk) return { rejected: [this.#reject(undefined, 'invalid_frame', chunk.error)] };
    const { frameId, index, count, timestampMs, payload } = chunk;
    const toIgnore = this.#partial.has(frameId) ? undefined : this.#recentlyRejected.get(frameId);
    if (toIgnore !== undefined) {
      this.#ignoredChunks++;
      if (toIgnore <= 1) this.#recentlyRejected.delete(frameId);
      else this.#recentlyRejected.set(frameId, toIgnore - 1);
      return { rejected: [] };
    }
    const rejected: RejectedFrame[] = [];
    let p = this.#partial.get(frameId);
    if (!p) {
      while (this.#partial.size >= this.#maxPartial) {
        const [oldId, old] = this.#partial.entries().next().value as [number, Partial];
        rejected.push(
          this.#reject(
            oldId,
            'invalid_frame',
            `frame ${oldId} incomplete: ${old.received} of ${old.count} chunks arrived before ${this.#maxPartial} newer frames`,
            old.count - old.received,
          ),
        );
      }
      p = { count, timestampMs, chunks: new Array<Uint8Array | undefined>(count), received: 0, bytes: 0 };
      this.#partial.set(frameId, p);
    }
    if (count !== p.count) {
      rejected.push(
        this.#reject(frameId, 'invalid_frame', `frame ${frameId}: chunk says ${count} chunks, an earlier chunk said ${p.count}`, p.count - p.received),
      );
      return { rejected };
    }
    if (p.chunks[index] !== undefined) {
      rejected.push(this.#reject(frameId, 'invalid_frame', `frame ${frameId}: chunk ${index} arrived twice`, p.count - p.received));
      return { rejected };
    }
    p.bytes += payload.byteLength;
    if (p.bytes > this.#maxBytes) {
      rejected.push(this.#reject(frameId, 'frame_too_large', `frame ${frameId} is over the ${this.#maxBytes}-byte limit`, p.count - p.received - 1));
      return { rejected };
    }
    p.chunks[index] = payload.slice();
    p.received++;
    if (p.received < p.count) return { rejected };
    this.#partial.delete(frameId);
    const bytes = new Uint8Array(p.bytes);
    let at = 0;
    for (const c of p.chunks) {
      bytes.set(c!, at);
      at += c!.byteLength;
    }
    this.#frames++;
    return { frame: { frameId, timestampMs: p.timestampMs, bytes }, rejected };
  }

  /** `remaining`: chunks of the frame that may still arrive (ignored when they do). */
  #reject(frameId: number | undefined, code: RejectedFrame['code'], message: string, remaining = 0): RejectedFrame {
    this.#rejected++;
    if (frameId !== undefined) {
      this.#partial.delete(frameId);
      this.#recentlyRejected.delete(frameId);
      if (remaining > 0) this.#recentlyRejected.set(frameId, remaining);
      if (this.#recentlyRejected.size > 16) this.#recentlyRejected.delete(this.#recentlyRejected.keys().next().value!);
    }
    return { ...(frameId !== undefined ? { frameId } : {}), code, message };
  }
}
