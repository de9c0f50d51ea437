import type { ResultMessage } from '@sightline/protocol';

/**
 * Draws a result's boxes on a canvas laid over a video shown with `object-fit: contain` (the default for <video>).
 * The canvas is resized to the video element's CSS box times devicePixelRatio.
 */
export function drawBoxes(canvas: HTMLCanvasElement, video: HTMLVideoElement, result: ResultMessage | undefined, color = '#22e07a'): void {
  const dpr = globalThis.devicePixelRatio || 1;
  const cw = video.clientWidth;
  const ch = video.clientHeight;
  if (canvas.width !== Math.round(cw * dpr) || canvas.height !== Math.round(ch * dpr)) {
    canvas.width = Math.round(cw * dpr);
    canvas.height = Math.round(ch * dpr);
  }
  const g = canvas.getContext('2d');
  if (!g) return;
  g.setTransform(1, 0, 0, 1, 0, 0);
  g.clearRect(0, 0, canvas.width, canvas.height);
  if (!result || result.width === 0 || result.height === 0) return;
  const scale = Math.min(cw / result.width, ch / result.height);
  const ox = (cw - result.width * scale) / 2;
  const oy = (ch - result.height * scale) / 2;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.lineWidth = 3;
  g.strokeStyle = color;
  g.fillStyle = color;
  g.font = '600 13px system-ui, sans-serif';
  for (const b of result.boxes) {
    const [x, y, w, h] = b.box;
    const rx = ox + x * scale;
    const ry = oy + y * scale;
    g.strokeRect(rx, ry, w * scale, h * scale);
    const label = b.score !== undefined ? `${b.class} ${(b.score * 100).toFixed(0)}%` : b.class;
    g.fillText(label, rx + 2, Math.max(12, ry - 5));
  }
}
