/**
 * Remembers when each encoded video frame left the browser, with its RTP timestamp. A result that carries
 * `rtp_timestamp` is matched to the frame sent with it, exactly, whatever was lost on the way; otherwise (servers
 * whose engine does not know it) the result for the server's k-th decoded frame is matched with the k-th frame sent. Times are Unix epoch ms, so they compare with the server's `timing.received_ms` on a
 * machine with a synchronised clock.
 *
 * Two browser APIs give each encoded frame as it goes out: the standard `RTCRtpScriptTransform` (a worker sees the
 * frames) and Chromium's `createEncodedStreams()`. Where neither exists, `method` is `none` and RTT is unknown.
 */
/** How per-frame RTT is measured: encoded-frame transforms on the video sender, or frame ids of JPEG chunks. */
export type LatencyMethod = 'script-transform' | 'encoded-streams' | 'frame-chunks' | 'none';

export class SendTimeTracker {
  readonly #times = new Map<number, { at: number; rtp: number | undefined }>();
  /** The same entries by RTP timestamp. */
  readonly #byRtp = new Map<number, { at: number; rtp: number | undefined; index: number }>();
  #sent = 0;
  method: LatencyMethod = 'none';
  static readonly MAX_REMEMBERED = 600;

  /** Frames sent so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Records the next frame's send time (epoch ms) and RTP timestamp (90 kHz), when known. */
  record(epochMs: number, rtpTimestamp?: number): void {
    this.#times.set(this.#sent, { at: epochMs, rtp: rtpTimestamp });
    const old = this.#times.get(this.#sent - SendTimeTracker.MAX_REMEMBERED);
    if (old?.rtp !== undefined) this.#byRtp.delete(old.rtp);
    this.#times.delete(this.#sent - SendTimeTracker.MAX_REMEMBERED);
    if (rtpTimestamp !== undefined) this.#byRtp.set(rtpTimestamp, { at: epochMs, rtp: rtpTimestamp, index: this.#sent });
    this.#sent++;
  }

  /** Send time and RTP timestamp of the frame sent with `rtpTimestamp`, forgotten once taken. */
  takeByRtp(rtpTimestamp: number): { at: number; rtp: number | undefined } | undefined {
    const t = this.#byRtp.get(rtpTimestamp);
    if (t === undefined) return undefined;
    this.#byRtp.delete(rtpTimestamp);
    this.#times.delete(t.index);
    return { at: t.at, rtp: t.rtp };
  }

  /** Send time (epoch ms) and RTP timestamp of frame `frameId`, forgotten once taken. */
  take(frameId: number): { at: number; rtp: number | undefined } | undefined {
    const t = this.#times.get(frameId);
    if (t !== undefined) {
      this.#times.delete(frameId);
      if (t.rtp !== undefined) this.#byRtp.delete(t.rtp);
    }
    return t;
  }

  /** Hooks the tracker onto a video sender, with whichever API the browser has. */
  attach(sender: RTCRtpSender, api: LatencyMethod): void {
    if (api === 'script-transform') {
      const worker = new Worker(transformWorkerUrl());
      worker.onmessage = (e: MessageEvent<[number, number | undefined]>) => this.record(e.data[0], e.data[1]);
      const Transform = (globalThis as unknown as { RTCRtpScriptTransform: new (w: Worker) => RTCRtpScriptTransform }).RTCRtpScriptTransform;
      sender.transform = new Transform(worker);
      this.method = api;
    } else if (api === 'encoded-streams') {
      const s = sender as RTCRtpSender & { createEncodedStreams: () => { readable: ReadableStream; writable: WritableStream } };
      const { readable, writable } = s.createEncodedStreams();
      void readable
        .pipeThrough(
          new TransformStream({
            transform: (frame: RTCEncodedVideoFrame, controller) => {
              this.record(performance.timeOrigin + performance.now(), frame.getMetadata().rtpTimestamp);
              controller.enqueue(frame);
            },
          }),
        )
        .pipeTo(writable);
      this.method = api;
    }
  }
}

let workerUrl: string | undefined;
/** A tiny worker for RTCRtpScriptTransform: passes frames through and posts each one's send time. */
function transformWorkerUrl(): string {
  workerUrl ??= URL.createObjectURL(
    new Blob(
      [
        `onrtctransform = (e) => {
  const t = e.transformer;
  t.readable.pipeThrough(new TransformStream({ transform(f, c) { postMessage([performance.timeOrigin + performance.now(), f.getMetadata().rtpTimestamp]); c.enqueue(f); } })).pipeTo(t.writable);
};`,
      ],
      { type: 'text/javascript' },
    ),
  );
  return workerUrl;
}

/** The best per-frame send-time API this browser has. */
export function latencyApi(): LatencyMethod {
  if (typeof RTCRtpSender === 'undefined') return 'none';
  if ('RTCRtpScriptTransform' in globalThis) return 'script-transform';
  if ('createEncodedStreams' in RTCRtpSender.prototype) return 'encoded-streams';
  return 'none';
}
