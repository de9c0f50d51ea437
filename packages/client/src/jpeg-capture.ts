export interface JpegCaptureOptions {
  /** Frames per second captured at most. Default 15. */
  fps?: number;
  /** Width frames are scaled to (height keeps the aspect ratio). Default 640. */
  width?: number;
  /** `image/jpeg` (default) or `image/webp`. */
  format?: 'image/jpeg' | 'image/webp';
  /** Encoder quality 0–1. Default 0.8. */
  quality?: number;
}

/**
 * Grabs frames of a MediaStream's video track and encodes them as JPEG/WebP, for the DataChannel frame transport
 * (no media track). A frame is grabbed only when `wanted()` says the sender has room, so nothing is encoded in vain.
 */
export class JpegCapture {
  readonly #video: HTMLVideoElement;
  readonly #canvas: HTMLCanvasElement;
  readonly #opts: Required<JpegCaptureOptions>;
  #timer: ReturnType<typeof setInterval> | undefined;
  #busy = false;
  /** The server's capture hint in force: the picture fits in this box, at most this many fps. */
  #limit: { maxWidth: number | null; maxHeight: number | null; maxFps: number | null } = { maxWidth: null, maxHeight: null, maxFps: null };
  /** Ticks skipped because the sender had no room or the previous encode was still running. */
  skipped = 0;

  constructor(
    stream: MediaStream,
    opts: JpegCaptureOptions,
    private readonly wanted: () => boolean,
    private readonly onFrame: (image: Uint8Array, capturedAt: number) => void,
  ) {
    this.#opts = { fps: opts.fps ?? 15, width: opts.width ?? 640, format: opts.format ?? 'image/jpeg', quality: opts.quality ?? 0.8 };
    this.#video = document.createElement('video');
    this.#video.muted = true;
    this.#video.playsInline = true;
    this.#video.srcObject = new MediaStream(stream.getVideoTracks());
    this.#canvas = document.createElement('canvas');
  }

  async start(): Promise<void> {
    await this.#video.play();
    this.#schedule();
  }

  /**
   * Follows a capture hint: frames are scaled before encoding so that they fit in `maxWidth` × `maxHeight`, and
   * grabbed at most `maxFps` times a second (never more than the options say). `null` lifts a limit.
   */
  setLimit(limit: { maxWidth: number | null; maxHeight: number | null; maxFps: number | null }): void {
    const fpsChanged = limit.maxFps !== this.#limit.maxFps;
    this.#limit = limit;
    if (fpsChanged && this.#timer !== undefined) this.#schedule();
  }

  #schedule(): void {
    clearInterval(this.#timer);
    const fps = Math.min(this.#opts.fps, this.#limit.maxFps ?? Infinity);
    this.#timer = setInterval(() => void this.#grab(), 1000 / fps);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#video.pause();
    this.#video.srcObject = null;
  }

  async #grab(): Promise<void> {
    const v = this.#video;
    if (this.#busy || !this.wanted() || v.videoWidth === 0) {
      this.skipped++;
      return;
    }
    this.#busy = true;
    try {
      const { maxWidth, maxHeight } = this.#limit;
      const s = Math.min(1, this.#opts.width / v.videoWidth, (maxWidth ?? Infinity) / v.videoWidth, (maxHeight ?? Infinity) / v.videoHeight);
      // Even sizes, never above the limit (the epsilon keeps 640 × 0.4 at 256, not 254).
      const w = Math.max(2, Math.floor((v.videoWidth * s) / 2 + 1e-6) * 2);
      const h = Math.max(2, Math.floor((v.videoHeight * s) / 2 + 1e-6) * 2);
      if (this.#canvas.width !== w || this.#canvas.height !== h) Object.assign(this.#canvas, { width: w, height: h });
      const capturedAt = performance.timeOrigin + performance.now();
      this.#canvas.getContext('2d')!.drawImage(v, 0, 0, w, h);
      const blob = await new Promise<Blob | null>((r) => this.#canvas.toBlob(r, this.#opts.format, this.#opts.quality));
      if (blob) this.onFrame(new Uint8Array(await blob.arrayBuffer()), capturedAt);
    } finally {
      this.#busy = false;
    }
  }
}
