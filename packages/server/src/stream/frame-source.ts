import { spawn, spawnSync } from 'node:child_process';
import sharp from 'sharp';
import type { I420Frame } from '../models/i420.js';

export interface SourceInfo {
  width: number;
  height: number;
  /** Seconds, for files; undefined for live sources (cameras, most streams). */
  durationS: number | undefined;
}

/** Size (and duration, if any) of the first video stream of `source`: files, y4m, RTSP/HTTP URLs, /dev/video*. */
export function probeSource(source: string): SourceInfo {
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height:format=duration', '-of', 'default=nw=1'];
  if (source.startsWith('/dev/video')) args.unshift('-f', 'v4l2');
  const r = spawnSync('ffprobe', [...args, source], { encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw new Error(`ffprobe is needed to read ${source}: ${r.error.message}`);
  const w = /width=(\d+)/.exec(r.stdout);
  const h = /height=(\d+)/.exec(r.stdout);
  if (r.status !== 0 || !w || !h) throw new Error(`cannot read a video stream from ${source}: ${r.stderr.trim() || 'no video stream'}`);
  const d = Number(/duration=([\d.]+)/.exec(r.stdout)?.[1]);
  return { width: Number(w[1]), height: Number(h[1]), durationS: Number.isFinite(d) && d > 0 ? d : undefined };
}

/**
 * Even output size for `width` pixels wide, keeping the source's aspect ratio; with `fit` (a capture hint), scaled
 * down further until it fits in `fit.maxWidth` × `fit.maxHeight`.
 */
export function outputSize(info: SourceInfo, width: number, fit?: { maxWidth: number | null; maxHeight: number | null }): { width: number; height: number } {
  const W = width - (width % 2);
  const H = Math.max(2, Math.round((info.height * W) / info.width / 2) * 2);
  const s = Math.min(1, (fit?.maxWidth ?? Infinity) / W, (fit?.maxHeight ?? Infinity) / H);
  if (s >= 1) return { width: W, height: H };
  return { width: Math.max(2, Math.floor((W * s) / 2 + 1e-6) * 2), height: Math.max(2, Math.floor((H * s) / 2 + 1e-6) * 2) };
}

/** How to read a source: rate, size, where to start (files), and when to stop. */
export interface ReadOptions {
  fps: number;
  width: number;
  /** A capture hint's box: frames are scaled to fit in it. */
  fit?: { maxWidth: number | null; maxHeight: number | null } | undefined;
  signal?: AbortSignal | undefined;
}

/** ffmpeg's input arguments for `source` (real-time pacing for files). */
function inputArgs(source: string): string[] {
  return source.startsWith('/dev/video') ? ['-f', 'v4l2', '-i', source] : ['-re', '-i', source];
}

/**
 * Decodes `source` with ffmpeg at `fps`, `width` pixels wide, and encodes each frame as a JPEG here (libvips through
 * sharp, off the main thread), for the JPEG transports (DataChannel, WebSocket). `fitNow` is asked at every frame: a
 * capture hint that arrives mid-stream scales the very next frame down before it is encoded, with no restart of the
 * source and no frame lost or repeated.
 */
export async function* readJpegFrames(source: string, opts: ReadOptions & { quality?: number; fitNow?: () => ReadOptions['fit'] }): AsyncGenerator<Uint8Array> {
  const { width: W, height: H } = outputSize(probeSource(source), opts.width, opts.fit);
  const args = ['-v', 'error', ...inputArgs(source), '-an', '-vf', `scale=${W}:${H},fps=${opts.fps}`, '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'];
  const size = W * H * 3;
  const info = { width: W, height: H, durationS: undefined };
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of runFfmpeg(source, args, opts.signal)) {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= size) {
      const rgb = buf.subarray(0, size);
      buf = buf.subarray(size);
      const out = outputSize(info, W, opts.fitNow?.());
      let img = sharp(rgb, { raw: { width: W, height: H, channels: 3 } });
      if (out.width !== W || out.height !== H) img = img.resize(out.width, out.height, { fit: 'fill' });
      yield new Uint8Array(await img.jpeg({ quality: opts.quality ?? 85 }).toBuffer());
    }
  }
}

/** Runs ffmpeg with `args`, yielding its stdout; throws with its stderr when it fails (not when aborted). */
async function* runFfmpeg(source: string, args: string[], signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  const ff = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  ff.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const onAbort = (): void => void ff.kill('SIGTERM');
  signal?.addEventListener('abort', onAbort);
  try {
    for await (const chunk of ff.stdout as AsyncIterable<Buffer>) yield chunk;
    const code: number | null = ff.exitCode ?? (await new Promise((r) => ff.once('exit', r)));
    if (code !== 0 && !signal?.aborted) throw new Error(`ffmpeg failed on ${source}: ${stderr.trim() || `exit ${code}`}`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (ff.exitCode === null) ff.kill('SIGTERM');
  }
}

/**
 * Decodes `source` with ffmpeg into I420 frames at `fps` (real-time pacing: files play at their speed), scaled to
 * `width` pixels wide (even sizes). Yields until the source ends or `signal` aborts.
 */
export async function* readFrames(source: string, opts: ReadOptions): AsyncGenerator<I420Frame> {
  const { width: W, height: H } = outputSize(probeSource(source), opts.width, opts.fit);
  const args = ['-v', 'error', ...inputArgs(source), '-an', '-vf', `scale=${W}:${H},fps=${opts.fps}`, '-pix_fmt', 'yuv420p', '-f', 'rawvideo', '-'];
  const size = W * H * 1.5;
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of runFfmpeg(source, args, opts.signal)) {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= size) {
      yield { width: W, height: H, data: new Uint8Array(buf.subarray(0, size)) };
      buf = buf.subarray(size);
    }
  }
}
