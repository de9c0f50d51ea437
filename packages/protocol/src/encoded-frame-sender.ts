import { DEFAULT_FRAME_CHUNK_BYTES, encodeFrameChunks, MAX_FRAME_ID } from './frame-chunks.js';
import type { FrameAckMessage } from './messages.js';

export interface EncodedFrameSenderOptions {
  /** Most frames unacknowledged at once (the server acks each with `frame_ack`). Default 2. */
  window?: number;
  /** Payload bytes per chunk message. Default 16 KiB minus the header (portable across DataChannel stacks). */
  chunkBytes?: number;
  /** No new frame starts while the transport holds more than this many bytes unsent. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** A frame unacknowledged this long is given up (counted in `lost`) so the window cannot stall. Default 5000. */
  ackTimeoutMs?: number;
  /** Sends one binary message. */
  sendChunk: (chunk: Uint8Array) => void;
  /** Bytes queued in the transport (RTCDataChannel/WebSocket `bufferedAmount`). */
  bufferedAmount: () => number;
  /** Monotonic clock, ms. */
  now?: () => number;
}

export interface EncodedFrameSenderStats {
  /** Frames sent. */
  sent: number;
  /** Frames the server acknowledged, by status. */
  processed: number;
  dropped: number;
  failed: number;
  rejected: number;
  /** Frames given to `offer` that were replaced by a newer one while the window was full (never sent). */
  skipped: number;
  /** Frames sent but never acknowledged within `ackTimeoutMs`. */
  lost: number;
  inFlight: number;
}

/**
 * Client side of the encoded-frame path (JPEG/WebP over a DataChannel or WebSocket) with flow control: at most
 * `window` frames unacknowledged; a frame offered while the window is full waits as the latest one, replacing (and
 * counting as `skipped`) any frame already waiting — a live source never queues up behind a slow server.
 */
export class EncodedFrameSender {
  readonly #o: Required<Omit<EncodedFrameSenderOptions, 'now'>> & { now: () => number };
  readonly #inFlight = new Map<number, number>();
  #waiting: { image: Uint8Array; timestampMs: number } | undefined;
  #nextId = 0;
  readonly #stats: EncodedFrameSenderStats = { sent: 0, processed: 0, dropped: 0, failed: 0, rejected: 0, skipped: 0, lost: 0, inFlight: 0 };

  constructor(opts: EncodedFrameSenderOptions) {
    this.#o = {
      window: opts.window ?? 2,
      chunkBytes: opts.chunkBytes ?? DEFAULT_FRAME_CHUNK_BYTES,
      maxBufferedBytes: opts.maxBufferedBytes ?? 1 << 20,
      ackTimeoutMs: opts.ackTimeoutMs ?? 5000,
      sendChunk: opts.sendChunk,
      bufferedAmount: opts.bufferedAmount,
      now: opts.now ?? (() => performance.now()),
    };
    if (!(this.#o.window >= 1)) throw new RangeError('window must be at least 1');
  }

  get stats(): EncodedFrameSenderStats {
    return { ...this.#stats, inFlight: this.#inFlight.size };
  }

  /** Whether a frame offered now would be sent at once (capture only then, to save encoding work). */
  get ready(): boolean {
    return this.#waiting === undefined && this.#inFlight.size < this.#o.window && this.#o.bufferedAmount() <= this.#o.maxBufferedBytes;
  }

  /** When frame `frameId` was sent (the `now` clock), while it is unacknowledged. */
  sentAt(frameId: number): number | undefined {
    return this.#inFlight.get(frameId);
  }

  /** Offers an encoded image (JPEG/WebP bytes); `timestampMs` is echoed in its result as `client_ts_ms`. */
  offer(image: Uint8Array, timestampMs = Date.now()): void {
    if (this.#waiting) this.#stats.skipped++;
    this.#waiting = { image, timestampMs };
    this.#pump();
  }

  /** Feed every `frame_ack` the server sends. Returns when the acknowledged frame was sent (the `now` clock). */
  onAck(ack: FrameAckMessage): number | undefined {
    const sentAt = this.#inFlight.get(ack.frame_id);
    if (sentAt === undefined) return undefined;
    this.#inFlight.delete(ack.frame_id);
    this.#stats[ack.status]++;
    this.#pump();
    return sentAt;
  }

  #pump(): void {
    const now = this.#o.now();
    for (const [id, at] of this.#inFlight) {
      if (now - at > this.#o.ackTimeoutMs) {
        this.#inFlight.delete(id);
        this.#stats.lost++;
      }
    }
    if (!this.#waiting || this.#inFlight.size >= this.#o.window || this.#o.bufferedAmount() > this.#o.maxBufferedBytes) return;
    const { image, timestampMs } = this.#waiting;
    this.#waiting = undefined;
    const id = this.#nextId;
    this.#nextId = id >= MAX_FRAME_ID ? 0 : id + 1;
    this.#inFlight.set(id, now);
    this.#stats.sent++;
    for (const chunk of encodeFrameChunks(image, id, timestampMs, this.#o.chunkBytes)) this.#o.sendChunk(chunk);
  }
}
