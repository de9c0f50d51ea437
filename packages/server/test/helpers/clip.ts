import { execFileSync } from 'node:child_process';
import { existsSync, renameSync } from 'node:fs';
import { iou } from './images.js';
import { ASTRONAUT_FACE, artifactsDir, astronautPng } from './paths.js';

/**
 * The test clip: a slow pan over astronaut.png, 640x480 at 30 fps, 6 s (180 frames), made with ffmpeg once and
 * kept in .artifacts/clips. The image is scaled 512 → 800 px and a 640x480 window moves on a 6 s sine:
 * x = 80 + 30·sin(2πt/6), y = 100 + 20·sin(2πt/6).
 */
export const CLIP = { width: 640, height: 480, fps: 30, seconds: 6, frames: 180, scale: 800 / 512 } as const;

export function ensurePanClip(): string {
  const out = `${artifactsDir('clips')}astronaut-pan.y4m`;
  if (existsSync(out)) return out;
  const tmp = `${out}.tmp.y4m`;
  execFileSync('ffmpeg', [
    '-loglevel',
    'error',
    '-y',
    '-loop',
    '1',
    '-i',
    astronautPng,
    '-vf',
    `scale=800:800,crop=640:480:x='80+30*sin(2*PI*t/6)':y='100+20*sin(2*PI*t/6)',format=yuv420p`,
    '-t',
    String(CLIP.seconds),
    '-r',
    String(CLIP.fps),
    tmp,
  ]);
  renameSync(tmp, out);
  return out;
}

/** Where the face is in clip frame `i` (frame pixels). */
export function faceInClipFrame(i: number): { x: number; y: number; w: number; h: number } {
  const t = i / CLIP.fps;
  const s = Math.sin((2 * Math.PI * t) / CLIP.seconds);
  const cropX = Math.floor(80 + 30 * s);
  const cropY = Math.floor(100 + 20 * s);
  const k = CLIP.scale;
  return { x: ASTRONAUT_FACE.x * k - cropX, y: ASTRONAUT_FACE.y * k - cropY, w: ASTRONAUT_FACE.w * k, h: ASTRONAUT_FACE.h * k };
}

/**
 * Whether `box` lies on the face at some point of the pan (IoU ≥ 0.5). `frameWidth` is the width of the frame the
 * box is in (a result's `width`): a frame the client scaled down (capture hints) is compared at the clip's scale.
 */
export function onClipFace(box: readonly [number, number, number, number], frameWidth: number = CLIP.width): boolean {
  const k = CLIP.width / frameWidth;
  const b = { x: box[0] * k, y: box[1] * k, w: box[2] * k, h: box[3] * k };
  for (let i = 0; i < CLIP.frames; i++) if (iou(b, faceInClipFrame(i)) >= 0.5) return true;
  return false;
}
