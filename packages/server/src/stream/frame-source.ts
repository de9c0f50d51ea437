import { spawn, spawnSync } from 'node:child_process';
import type { I420Frame } from '../models/i420.js';

export interface SourceInfo {
  width: number;
  height: number;
}

/** Size of the first video stream of `source` (anything ffprobe reads: files, y4m, RTSP/HTTP URLs, /dev/video*). */
export function probeSource(source: string): SourceInfo {
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0:s=x'];
  if (source.startsWith('/dev/video')) args.unshift('-f', 'v4l2');
  const r = spawnSync('ffprobe', [...args, source], { encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw new Error(`ffprobe is needed to read ${source}: ${r.error.message}`);
  const m = /(\d+)x(\d+)/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`cannot read a video stream from ${source}: ${r.stderr.trim() || 'no video stream'}`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

/**
 * Decodes `source` with ffmpeg into I420 frames at `fps` (real-time pacing: files play at their speed), scaled to
 * `width` pixels wide (even sizes). Yields until the source ends or `signal` aborts.
 */
export async function* readFrames(source: string, opts: { fps: number; width: number; signal?: AbortSignal }): AsyncGenerator<I420Frame> {
  const info = probeSource(source);
  const W = opts.width - (opts.width % 2);
  const H = Math.max(2, Math.round((info.height * W) / info.width / 2) * 2);
  const input = source.startsWith('/dev/video') ? ['-f', 'v4l2', '-i', source] : ['-re', '-i', source];
  const ff = spawn('ffmpeg', ['-v', 'error', ...input, '-an', '-vf', `scale=${W}:${H},fps=${opts.fps}`, '-pix_fmt', 'yuv420p', '-f', 'rawvideo', '-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  ff.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const onAbort = (): void => void ff.kill('SIGTERM');
  opts.signal?.addEventListener('abort', onAbort);
  const size = W * H * 1.5;
  let buf: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of ff.stdout as AsyncIterable<Buffer>) {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= size) {
        yield { width: W, height: H, data: new Uint8Array(buf.subarray(0, size)) };
        buf = buf.subarray(size);
      }
    }
    const code: number | null = ff.exitCode ?? (await new Promise((r) => ff.once('exit', r)));
    if (code !== 0 && !opts.signal?.aborted) throw new Error(`ffmpeg failed on ${source}: ${stderr.trim() || `exit ${code}`}`);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    if (ff.exitCode === null) ff.kill('SIGTERM');
  }
}
