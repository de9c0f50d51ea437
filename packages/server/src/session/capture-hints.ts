import type { CaptureHintMessage } from '@sightline/protocol';
import type { CaptureNeed } from '../pipeline/processor.js';

/** A change of the picture's aspect ratio beyond this (a phone rotated, a window resized) recomputes the hint. */
const ASPECT_TOLERANCE = 0.05;

export interface HintInputs {
  /** What the processor needs now; undefined: nothing in particular. */
  need: CaptureNeed | undefined;
  /** The key's fps cap, if any: frames beyond it would only be dropped. */
  keyMaxFps: number | undefined;
  /** False when the picture itself is the product (video sent back, a recording): then size is not limited. */
  limitSize: boolean;
}

/**
 * The capture hint for a picture of aspect ratio `aspect` (width / height): the size at which the model's view of
 * the frame loses nothing. `contain` (letterboxing models): the picture fits in need.width × need.height; `cover`
 * (stretching models): it covers it. Never asks for more than it needs; `null` where nothing is limited.
 */
export function captureHintFor(inputs: HintInputs, aspect: number): CaptureHintMessage {
  const { need, keyMaxFps, limitSize } = inputs;
  let maxWidth: number | null = null;
  let maxHeight: number | null = null;
  if (limitSize && need?.width !== undefined && need.height !== undefined && aspect > 0) {
    const s = need.fit === 'cover' ? Math.max(need.width / aspect, need.height) : Math.min(need.width / aspect, need.height);
    maxHeight = Math.max(2, Math.ceil(s));
    maxWidth = Math.max(2, Math.ceil(s * aspect));
  }
  const fps = [need?.maxFps, keyMaxFps].filter((f): f is number => f !== undefined && f > 0);
  return { type: 'capture_hint', max_width: maxWidth, max_height: maxHeight, max_fps: fps.length > 0 ? Math.min(...fps) : null };
}

const sameHint = (a: CaptureHintMessage, b: CaptureHintMessage): boolean =>
  a.max_width === b.max_width && a.max_height === b.max_height && a.max_fps === b.max_fps;

/**
 * Decides when a session tells its client what to send. The first hint goes out with the first frame (the picture's
 * shape is known then); a new one only when the processor's need, the key's fps cap or the aspect ratio changes — a
 * frame that merely got smaller because the client followed the hint changes nothing, so there is no feedback loop.
 * Pure: fed frame sizes and inputs, returns the message to send, if any.
 */
export class CaptureHintTracker {
  #aspect: number | undefined;
  #last: CaptureHintMessage | undefined;

  /** The hint in force (last one returned), if any. */
  get current(): CaptureHintMessage | undefined {
    return this.#last;
  }

  /**
   * The client said what it will send (offer `capture`) before any frame: the first hint, for the answer. Frames of
   * that shape (or scaled to the hint) then change nothing.
   */
  prime(width: number, height: number, inputs: HintInputs): CaptureHintMessage | undefined {
    return this.onFrame(width, height, inputs);
  }

  /** A decoded frame of `width` × `height`; returns a hint to send when it differs from the last one. */
  onFrame(width: number, height: number, inputs: HintInputs): CaptureHintMessage | undefined {
    if (width <= 0 || height <= 0) return undefined;
    const aspect = width / height;
    if (this.#aspect === undefined || Math.abs(aspect - this.#aspect) / this.#aspect > ASPECT_TOLERANCE) this.#aspect = aspect;
    return this.#next(inputs);
  }

  /** The processor, its params or the key's limit changed; returns a hint to send (once a frame has been seen). */
  onInputs(inputs: HintInputs): CaptureHintMessage | undefined {
    return this.#aspect === undefined ? undefined : this.#next(inputs);
  }

  #next(inputs: HintInputs): CaptureHintMessage | undefined {
    const hint = captureHintFor(inputs, this.#aspect!);
    if (this.#last && sameHint(hint, this.#last)) return undefined;
    this.#last = hint;
    return hint;
  }
}
