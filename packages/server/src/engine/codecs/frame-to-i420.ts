/**
 * Decoded AVFrame → the engine's I420Frame: one contiguous copy, Y then U then V with no row padding (chroma planes
 * at half size, rounded up). 8-bit limited-range yuv420p is copied as it is; anything else (yuvj420p, full-range
 * yuv420p, 10-bit, 4:4:4 from a screen-share encoder, …) goes through swscale first, because the models take BT.601
 * limited-range 8-bit 4:2:0 (models/i420.ts).
 */
import { Frame, SoftwareScaleContext, FFmpegError } from 'node-av/lib';
import { AV_PIX_FMT_YUV420P, AVCOL_RANGE_JPEG, AVCOL_RANGE_MPEG } from 'node-av/constants';
import type { I420Frame } from '../media-frames.js';

export class FrameToI420 {
  #sws: SoftwareScaleContext | undefined;
  #converted: Frame | undefined;
  #closed = false;

  /** Frames that needed swscale, for counters. */
  converted = 0;

  /** Copies `frame` out as I420, stamped with `rtpTimestamp`. Throws if swscale can't convert its format. */
  toI420(frame: Frame, rtpTimestamp: number): I420Frame {
    if (this.#closed) throw new Error('FrameToI420 is closed');
    let source = frame;
    if (frame.format !== AV_PIX_FMT_YUV420P || frame.colorRange === AVCOL_RANGE_JPEG) {
      source = this.#convert(frame);
      this.converted++;
    }
    // av_image_copy_to_buffer with alignment 1: the planes packed back to back.
    const data = source.toBuffer();
    if (source !== frame) source.unref();
    return { width: frame.width, height: frame.height, data, rtpTimestamp };
  }

  #convert(frame: Frame): Frame {
    // An swscale context that was only allocated (not initialised with fixed formats) sets itself up from each frame's
    // format, size and colour properties, and reuses that set-up while they stay the same: a mid-stream change of
    // format or size needs nothing here, and it honours full range signalled on a plain yuv420p frame.
    if (this.#sws === undefined) {
      this.#sws = new SoftwareScaleContext();
      this.#sws.allocContext();
      this.#converted = new Frame();
      this.#converted.alloc();
    }
    const out = this.#converted!;
    out.width = frame.width;
    out.height = frame.height;
    out.format = AV_PIX_FMT_YUV420P;
    out.colorRange = AVCOL_RANGE_MPEG;
    FFmpegError.throwIfError(this.#sws.scaleFrameSync(out, frame), `swscale from pixel format ${frame.format}`);
    return out;
  }

  /** Frees the swscale context and its frame now. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#converted?.free();
    this.#sws?.freeContext();
    this.#converted = undefined;
    this.#sws = undefined;
  }
}
