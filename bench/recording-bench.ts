/**
 * Recording bench: what recording a session costs, the way it is done (decoded I420 piped as Matroska to an ffmpeg
 * process that encodes H.264 with libx264 into fragmented MP4) against encoding in-process with the media engine's
 * own libavcodec encoder (node-av, libx264). Both get the same 640x480 frames of the pan clip at 30 fps, paced in real
 * time for RUN_S seconds. CPU is the whole cost: this process plus, for the pipe, the ffmpeg child. The in-process row
 * encodes only (no MP4 muxing, which costs little next to encoding), at the engine's real-time settings.
 */
import { mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VideoEncoder, type I420Frame } from '@sightline/media';
import { SessionRecorder } from '../packages/server/src/recording/session-recorder.js';
import { CLIP, ensurePanClip } from '../packages/server/test/helpers/clip.js';

const RUN_S = Number(process.env.BENCH_RECORDING_S ?? 10);
const FPS = 30;
const CLK_TCK = 100;

/** The clip's frames (a y4m file: a header line, then "FRAME\n" + I420 per frame). */
function clipFrames(): I420Frame[] {
  const path = ensurePanClip();
  const size = CLIP.width * CLIP.height * 1.5;
  const fd = openSync(path, 'r');
  const header = Buffer.alloc(200);
  readSync(fd, header, 0, 200, 0);
  let pos = header.indexOf(0x0a) + 1;
  const frames: I420Frame[] = [];
  const total = statSync(path).size;
  while (pos + 6 + size <= total && frames.length < CLIP.frames) {
    const data = new Uint8Array(size);
    readSync(fd, data, 0, size, pos + 6);
    frames.push({ width: CLIP.width, height: CLIP.height, data });
    pos += 6 + size;
  }
  closeSync(fd);
  return frames;
}

/** CPU seconds of this process so far, and of its children that have exited (reaped). */
function cpu(): { self: number; children: number } {
  const f = readFileSync('/proc/self/stat', 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { self: (Number(fields[11]) + Number(fields[12])) / CLK_TCK, children: (Number(fields[13]) + Number(fields[14])) / CLK_TCK };
}

interface Row {
  path: string;
  frames: number;
  dropped: number;
  cpuPercent: number;
  msPerFrame: number;
  megabytes: number;
}

/** Feeds `frames` at FPS for RUN_S seconds to `write`. */
async function paced(frames: I420Frame[], write: (f: I420Frame, i: number) => void): Promise<number> {
  const n = RUN_S * FPS;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const wait = t0 + (i * 1000) / FPS - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    write(frames[i % frames.length]!, i);
  }
  return n;
}

async function viaPipe(frames: I420Frame[], preset: string): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-recbench-'));
  try {
    const c0 = cpu();
    const rec = await SessionRecorder.create({ dir, sessionId: 'bench', audio: false, x264Preset: preset });
    const t0 = Date.now();
    const n = await paced(frames, (f, i) => rec.writeVideo(f, t0 + (i * 1000) / FPS));
    const summary = await rec.close();
    const c1 = cpu();
    const cpuS = c1.self - c0.self + (c1.children - c0.children);
    return {
      path: `ffmpeg process (libx264 ${preset}, crf 23, fragmented MP4)`,
      frames: n,
      dropped: summary.stats.videoDropped,
      cpuPercent: (cpuS / RUN_S) * 100,
      msPerFrame: (cpuS * 1000) / n,
      megabytes: summary.mediaFileBytes / 1e6,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function inProcess(frames: I420Frame[]): Promise<Row> {
  const c0 = cpu();
  const encoder = new VideoEncoder({ codec: 'H264', width: CLIP.width, height: CLIP.height, bitrate: 2_000_000 });
  let bytes = 0;
  const n = await paced(frames, (f, i) => {
    for (const e of encoder.encode(f, i * 3000)) bytes += e.data.byteLength;
  });
  encoder.close();
  const c1 = cpu();
  const cpuS = c1.self - c0.self;
  return {
    path: 'in-process (node-av libx264 ultrafast, zerolatency, 2 Mbps; no muxing)',
    frames: n,
    dropped: 0,
    cpuPercent: (cpuS / RUN_S) * 100,
    msPerFrame: (cpuS * 1000) / n,
    megabytes: bytes / 1e6,
  };
}

/** Runs the recording bench and prints its table. */
export async function runRecordingBench(): Promise<void> {
  const frames = clipFrames();
  const rows: Row[] = [];
  for (const preset of ['veryfast', 'ultrafast']) {
    process.stdout.write(`measuring recording through ffmpeg (${preset})…\n`);
    rows.push(await viaPipe(frames, preset));
  }
  process.stdout.write('measuring in-process encoding…\n');
  rows.push(await inProcess(frames));
  console.log(`\nRecording one 640x480 @ ${FPS} fps stream for ${RUN_S} s (CPU of this process + the ffmpeg child; 100 % = one core)\n`);
  console.log('| path | frames | dropped | CPU % | CPU ms per frame | output MB |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(`| ${r.path} | ${r.frames} | ${r.dropped} | ${r.cpuPercent.toFixed(1)} | ${r.msPerFrame.toFixed(2)} | ${r.megabytes.toFixed(1)} |`);
}
