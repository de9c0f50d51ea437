/**
 * Decoded AVFrame → the engine's I420Frame: one contiguous copy, Y then U then V with no row padding (chroma planes
 * at half size, rounded up). 8-bit 4:2:0 is copied as it is, full range included; anything else (10-bit, 4:4:4 from a
 * screen-share encoder, …) goes through swscale to 8-bit 4:2:0 first.
 *
 * Full range is not squeezed into 16..235: WebRTC senders mark the same camera or canvas picture differently by codec
 * (Chromium's H.264 says full range in its VUI, VP8 has no way to say it), so converting only what is marked would
 * give one picture different pixel values by codec. The samples stay as the sender encoded them, as libwebrtc
 * delivers them.
 */
import { Frame, SoftwareScaleContext, FFmpegError } from 'node-av/lib';
import { AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P, AVCOL_RANGE_MPEG } from 'node-av/constants';
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
    if (frame.format !== AV_PIX_FMT_YUV420P && frame.format !== AV_PIX_FMT_YUVJ420P) {
      source = this.#convert(frame);
      this.converted++;
    }
    // av_image_copy_to_buffer with alignment 1: the planes packed back to back. node-av gives a Buffer that owns its
    // whole ArrayBuffer; the frame carries a plain Uint8Array over it, since Buffer's slice() is a view, not the copy
    // that consumers keep (the pipeline copies a frame whose buffer the processor may transfer to a worker).
    const buf = source.toBuffer();
    const data = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
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
