/**
 * Reusable buffers of one size (video frames on their way to ffmpeg): a fresh 0.5 MB buffer costs ~0.2 ms in page
 * faults on first touch, ten times the copy itself. Buffers come back once the pipe has taken them; a new size
 * empties the pool. At most `keep` are kept.
 */
export class BufferPool {
  #size = 0;
  #free: Buffer[] = [];

  constructor(readonly keep = 8) {}

  /** A buffer of `size` bytes with unspecified contents. */
  take(size: number): Buffer {
    if (size !== this.#size) {
      this.#size = size;
      this.#free = [];
    }
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(size);
  }

  /** Returns a buffer from `take` that nothing uses any more. */
  give(buf: Buffer): void {
    if (buf.length === this.#size && this.#free.length < this.keep) this.#free.push(buf);
  }
}
