import type { ResultMessage } from '@sightline/protocol/wire';

/** Where the video's picture lies inside its element, per CSS object-fit (object-position centred). */
export interface ContentRect {
  x: number;
  y: number;
  /** CSS pixels per video pixel, horizontally and vertically. */
  sx: number;
  sy: number;
}

/** The displayed picture's rect for a `vw`x`vh` video in a `cw`x`ch` element. Pure. */
export function contentRect(fit: string, cw: number, ch: number, vw: number, vh: number): ContentRect {
  if (vw <= 0 || vh <= 0) return { x: 0, y: 0, sx: 0, sy: 0 };
  let sx: number;
  let sy: number;
  switch (fit) {
    case 'fill':
      sx = cw / vw;
      sy = ch / vh;
      break;
    case 'cover':
      sx = sy = Math.max(cw / vw, ch / vh);
      break;
    case 'none':
      sx = sy = 1;
      break;
    case 'scale-down':
      sx = sy = Math.min(1, cw / vw, ch / vh);
      break;
    default: // contain, the default for <video>
      sx = sy = Math.min(cw / vw, ch / vh);
  }
  return { x: (cw - vw * sx) / 2, y: (ch - vh * sy) / 2, sx, sy };
}

export interface OverlayOptions {
  color?: string;
  /** Draw boxes mirrored (for a selfie view shown with `transform: scaleX(-1)`). Default: read from the video's CSS. */
  mirror?: boolean;
  /** Boxes stay fully visible this long after their result, then fade. */
  staleMs?: number;
  /** Fade duration. */
  fadeMs?: number;
  lineWidth?: number;
}

/**
 * Draws boxes and labels on a canvas laid over a `<video>`: right under any object-fit, element resize, device
 * pixel ratio and mirrored selfie view; boxes fade when results stop coming. Call `update(result)` per result;
 * it repaints on animation frames until `stop()`.
 */
export class OverlayRenderer {
  #result: ResultMessage | undefined;
  #at = 0;
  #raf = 0;
  readonly #opts: Required<Omit<OverlayOptions, 'mirror'>> & Pick<OverlayOptions, 'mirror'>;

  constructor(
    readonly canvas: HTMLCanvasElement,
    readonly video: HTMLVideoElement,
    opts: OverlayOptions = {},
  ) {
    this.#opts = { color: '#22e07a', staleMs: 500, fadeMs: 700, lineWidth: 3, ...opts };
    const paint = (): void => {
      this.paint(performance.now());
      this.#raf = requestAnimationFrame(paint);
    };
    this.#raf = requestAnimationFrame(paint);
  }

  update(result: ResultMessage | undefined): void {
    this.#result = result;
    this.#at = performance.now();
  }

  stop(): void {
    cancelAnimationFrame(this.#raf);
  }

  paint(now: number): void {
    const age = now - this.#at;
    const { staleMs, fadeMs } = this.#opts;
    const alpha = age <= staleMs ? 1 : Math.max(0, 1 - (age - staleMs) / fadeMs);
    const mirror = this.#opts.mirror ?? /matrix\(-1|scaleX\(-1\)/.test(getComputedStyle(this.video).transform);
    drawBoxes(this.canvas, this.video, alpha > 0 ? this.#result : undefined, { color: this.#opts.color, alpha, mirror, lineWidth: this.#opts.lineWidth });
  }
}

/**
 * Draws a result's boxes on `canvas` (laid exactly over `video`). The canvas backing store follows the element's
 * size times devicePixelRatio. Boxes are in the result's frame pixels, mapped through the video's object-fit.
 */
export function drawBoxes(
  canvas: HTMLCanvasElement,
  video: HTMLVideoElement,
  result: ResultMessage | undefined,
  style: { color?: string; alpha?: number; mirror?: boolean; lineWidth?: number } | string = {},
): void {
  const s = typeof style === 'string' ? { color: style } : style;
  const dpr = globalThis.devicePixelRatio || 1;
  const cw = canvas.clientWidth || video.clientWidth;
  const ch = canvas.clientHeight || video.clientHeight;
  if (canvas.width !== Math.round(cw * dpr) || canvas.height !== Math.round(ch * dpr)) {
    canvas.width = Math.round(cw * dpr);
    canvas.height = Math.round(ch * dpr);
  }
  const g = canvas.getContext('2d');
  if (!g) return;
  g.setTransform(1, 0, 0, 1, 0, 0);
  g.clearRect(0, 0, canvas.width, canvas.height);
  if (!result || result.width === 0 || result.height === 0) return;
  // The picture's own size; before metadata loads, assume the frame the server saw.
  const vw = video.videoWidth || result.width;
  const vh = video.videoHeight || result.height;
  const r = contentRect(getComputedStyle(video).objectFit, cw, ch, vw, vh);
  const kx = (vw / result.width) * r.sx;
  const ky = (vh / result.height) * r.sy;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.globalAlpha = s.alpha ?? 1;
  g.lineWidth = s.lineWidth ?? 3;
  g.strokeStyle = s.color ?? '#22e07a';
  g.fillStyle = s.color ?? '#22e07a';
  g.font = '600 13px system-ui, sans-serif';
  for (const b of result.boxes) {
    const [x, y, w, h] = b.box;
    let rx = r.x + x * kx;
    const ry = r.y + y * ky;
    if (s.mirror) rx = cw - rx - w * kx;
    g.strokeRect(rx, ry, w * kx, h * ky);
    const label = b.score !== undefined ? `${b.class} ${(b.score * 100).toFixed(0)}%` : b.class;
    g.fillText(label, rx + 2, Math.max(12, ry - 5));
  }
}
