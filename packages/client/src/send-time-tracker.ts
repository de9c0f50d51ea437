/**
 * Remembers when each encoded video frame left the browser, in order, so that a result for the server's k-th
 * decoded frame can be matched with the k-th frame sent (exact while no frame is lost on the way — the server
 * numbers frames in decode order). Uses Chromium's encoded streams; where missing, `available` is false.
 */
export class SendTimeTracker {
  readonly #times = new Map<number, number>();
  #sent = 0;
  available = false;
  static readonly MAX_REMEMBERED = 600;

  /** Frames sent so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Call from the encoded-frame transform for each frame as it goes out. */
  record(now: number): void {
    this.#times.set(this.#sent, now);
    this.#times.delete(this.#sent - SendTimeTracker.MAX_REMEMBERED);
    this.#sent++;
  }

  /** Send time of frame `frameId`, forgotten once taken. */
  take(frameId: number): number | undefined {
    const t = this.#times.get(frameId);
    if (t !== undefined) this.#times.delete(frameId);
    return t;
  }

  /** Wires the tracker into an RTCRtpSender created on a connection with `encodedInsertableStreams: true`. */
  attach(sender: RTCRtpSender): boolean {
    const s = sender as RTCRtpSender & { createEncodedStreams?: () => { readable: ReadableStream; writable: WritableStream } };
    if (typeof s.createEncodedStreams !== 'function') return false;
    const { readable, writable } = s.createEncodedStreams();
    void readable
      .pipeThrough(
        new TransformStream({
          transform: (frame, controller) => {
            this.record(performance.now());
            controller.enqueue(frame);
          },
        }),
      )
      .pipeTo(writable);
    this.available = true;
    return true;
  }
}

/** Whether this browser can give per-frame send times (Chromium's encoded insertable streams). */
export function supportsEncodedStreams(): boolean {
  return typeof RTCRtpSender !== 'undefined' && 'createEncodedStreams' in RTCRtpSender.prototype;
}
