import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { rgbaToI420 } from '../../src/models/i420.js';
import type { I420Frame } from '../../src/models/i420.js';

/** Reads a PNG as RGBA. */
export function readPng(path: string): { width: number; height: number; rgba: Uint8Array } {
  const png = PNG.sync.read(readFileSync(path));
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
}

/** Reads a PNG as an I420 frame. */
export function readPngAsI420(path: string): I420Frame {
  const { width, height, rgba } = readPng(path);
  return rgbaToI420(rgba, width, height);
}

export function iou(a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  return inter / (a.w * a.h + b.w * b.h - inter);
}
