import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type I420Frame, i420Size } from '../../src/models/i420.js';
import { AudioTimeline, type PcmChunk } from '../../src/recording/audio-timeline.js';
import { type RecorderOptions, SessionRecorder } from '../../src/recording/session-recorder.js';

const dir = mkdtempSync(join(tmpdir(), 'sightline-rec-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const T0 = 1_700_000_000_000;
let n = 0;
// A generous backlog: these tests run faster than real time and on busy machines; one test checks the bound.
const open = (o: Partial<RecorderOptions> = {}) => SessionRecorder.create({ dir, sessionId: `s${++n}`, audio: true, maxBufferedFrames: 64, ...o });

/** A frame with luma `left` on the left half and `right` on the right half, neutral chroma. */
function frame(width: number, height: number, left = 200, right = 50): I420Frame {
  const data = new Uint8Array(i420Size(width, height)).fill(128);
  for (let y = 0; y < height; y++) {
    data.fill(left, y * width, y * width + (width >> 1));
    data.fill(right, y * width + (width >> 1), (y + 1) * width);
  }
  return { width, height, data };
}

/** 10 ms of a 440 Hz tone at 48 kHz mono, chunk number `i`. */
function tone(i: number): PcmChunk {
  const samples = new Int16Array(480);
  for (let s = 0; s < 480; s++) samples[s] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (i * 480 + s)) / 48_000));
  return { samples, sampleRate: 48_000, channels: 1 };
}

interface Probe {
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; nb_read_frames?: string; duration?: string }[];
  format: { duration: string };
}
function probe(file: string): Probe {
  const r = spawnSync(
    'ffprobe',
    ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,width,height,nb_read_frames,duration:format=duration', '-of', 'json', file],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Probe;
}
const stream = (p: Probe, type: string) => p.streams.filter((s) => s.codec_type === type);

/** Decodes `args` output of ffmpeg on `file` (raw bytes). */
function decode(file: string, args: string[]): Buffer {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, ...args, '-'], { maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

/** Writes `count` frames 40 ms apart on the recorder's clock (paced at `paceMs` real time) with 10 ms audio chunks. */
async function feed(rec: SessionRecorder, count: number, opts: { size?: (i: number) => [number, number]; audio?: boolean; paceMs?: number }): Promise<void> {
  for (let i = 0; i < count; i++) {
    const [w, h] = opts.size?.(i) ?? [320, 240];
    rec.writeVideo(frame(w, h), T0 + i * 40);
    if (opts.audio) for (let k = 0; k < 4; k++) rec.writeAudio(tone(i * 4 + k), T0 + i * 40 + k * 10 + 10);
    rec.writeMessage({ type: 'result', frame_id: i, detections: [] });
    await sleep(opts.paceMs ?? 10);
  }
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('SessionRecorder (real ffmpeg)', () => {
  test('3 s of video + 440 Hz audio + results: one H.264 and one AAC stream of the right duration, JSONL, summary', async () => {
    const rec = await open();
    await feed(rec, 75, { audio: true });
    const sum = await rec.close();
    assert.deepEqual(sum.errors, []);
    assert.equal(sum.stats.videoFrames + sum.stats.videoDropped, 75);
    assert.ok(sum.stats.videoDropped <= 2, `dropped ${sum.stats.videoDropped}`);
    assert.equal(sum.stats.audioChunks, 300);
    assert.equal(sum.stats.messages, 75);

    const p = probe(rec.paths.media);
    const [v] = stream(p, 'video');
    const a = stream(p, 'audio');
    assert.equal(stream(p, 'video').length, 1);
    assert.equal(v!.codec_name, 'h264');
    assert.equal(`${v!.width}x${v!.height}`, '320x240');
    assert.equal(Number(v!.nb_read_frames), sum.stats.videoFrames);
    assert.equal(a.length, 1);
    assert.equal(a[0]!.codec_name, 'aac');
    const d = Number(p.format.duration);
    assert.ok(Math.abs(d - 3) < 0.3, `duration ${d}`);

    // The tone survives: ~880 zero crossings per second.
    const pcm = decode(rec.paths.media, ['-vn', '-f', 's16le', '-ac', '1', '-ar', '48000']);
    const s = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1).subarray(4800, 4800 + 96_000);
    let crossings = 0;
    for (let i = 1; i < s.length; i++) if (s[i - 1]! < 0 !== s[i]! < 0) crossings++;
    assert.ok(Math.abs(crossings / 2 - 880) < 30, `${crossings} zero crossings in 2 s`);

    const lines = readFileSync(rec.paths.results, 'utf8').trim().split('\n');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { frame_id: number }).frame_id),
      Array.from({ length: 75 }, (_, i) => i),
    );
    const written = JSON.parse(readFileSync(rec.paths.summary, 'utf8')) as typeof sum;
    assert.deepEqual(written.stats, sum.stats);
    assert.equal(written.paths.media, rec.paths.media);
    assert.equal(written.mediaSpanMs, 74 * 40 + 40);
    assert.ok(written.mediaFileBytes > 0);
  });

  test('a resolution change mid-stream (320x240 → 160x120) keeps the first size and every frame', async () => {
    const rec = await open({ audio: false });
    await feed(rec, 60, { size: (i) => (i < 30 ? [320, 240] : [160, 120]) });
    const sum = await rec.close();
    assert.deepEqual(sum.errors, []);
    assert.ok(sum.stats.videoResized <= 30 && sum.stats.videoResized >= 30 - sum.stats.videoDropped, `resized ${sum.stats.videoResized}`);
    const p = probe(rec.paths.media);
    const [v] = stream(p, 'video');
    assert.equal(`${v!.width}x${v!.height}`, '320x240');
    assert.ok(Math.abs(Number(v!.nb_read_frames) - 60) <= 2, `${v!.nb_read_frames} frames`);
  });

  test('video only, paced by the real clock: duration follows the wall-clock span', async () => {
    const rec = await open({ audio: false });
    const start = Date.now();
    let last = start;
    while (Date.now() - start < 1500) {
      last = Date.now();
      rec.writeVideo(frame(320, 240), last);
      await sleep(25 + Math.random() * 30); // irregular, like WebRTC
    }
    const sum = await rec.close();
    assert.deepEqual(sum.errors, []);
    const p = probe(rec.paths.media);
    assert.equal(p.streams.length, 1);
    const span = (last - start) / 1000;
    const d = Number(stream(p, 'video')[0]!.duration);
    assert.ok(Math.abs(d - span) < 0.1 * span, `duration ${d} s, span ${span} s`);
  });

  test('audio: true but no audio ever: a playable file whose silent audio spans the video', async () => {
    const rec = await open();
    await feed(rec, 50, {});
    const sum = await rec.close();
    assert.deepEqual(sum.errors, []);
    assert.equal(sum.stats.audioChunks, 0);
    assert.ok(sum.stats.audioSilenceMs >= 1900, `silence ${sum.stats.audioSilenceMs} ms`);
    const p = probe(rec.paths.media);
    assert.equal(stream(p, 'video').length, 1);
    const a = stream(p, 'audio');
    assert.equal(a.length, 1);
    assert.ok(Math.abs(Number(a[0]!.duration) - 1.96) < 0.15, `audio ${a[0]!.duration} s`);
  });

  test('audio that stops half way and comes back later: gaps become silence, the tracks stay together', async () => {
    const rec = await open();
    for (let i = 0; i < 75; i++) {
      rec.writeVideo(frame(320, 240), T0 + i * 40);
      if (i < 25 || i >= 60) for (let k = 0; k < 4; k++) rec.writeAudio(tone(i * 4 + k), T0 + i * 40 + k * 10 + 10);
      await sleep(10);
    }
    const sum = await rec.close();
    assert.deepEqual(sum.errors, []);
    assert.equal(sum.stats.audioChunks, (25 + 15) * 4);
    assert.ok(Math.abs(sum.stats.audioSilenceMs - 35 * 40) <= 20, `silence ${sum.stats.audioSilenceMs} ms`);
    const p = probe(rec.paths.media);
    const a = Number(stream(p, 'audio')[0]!.duration);
    assert.ok(Math.abs(a - 3) < 0.1, `audio ${a} s`);
  });

  test('pixels: luma 200 | 50 (Y plane) decodes back, also for frames fitted from another size', async () => {
    const rec = await open({ audio: false });
    for (let i = 0; i < 10; i++) {
      rec.writeVideo(i < 5 ? frame(320, 240) : frame(640, 480), T0 + i * 40);
      await sleep(5);
    }
    await rec.close();
    // yuv420p out, not gray: gray would be expanded to full range.
    const yuv = decode(rec.paths.media, ['-f', 'rawvideo', '-pix_fmt', 'yuv420p']);
    const size = i420Size(320, 240);
    assert.equal(yuv.length, 10 * size);
    for (const f of [0, 9]) {
      const mean = (x0: number, x1: number) => {
        let sum = 0;
        for (let y = 20; y < 220; y++) for (let x = x0; x < x1; x++) sum += yuv[f * size + y * 320 + x]!;
        return sum / (200 * (x1 - x0));
      };
      assert.ok(Math.abs(mean(20, 140) - 200) < 6, `frame ${f} left ${mean(20, 140)}`);
      assert.ok(Math.abs(mean(180, 300) - 50) < 6, `frame ${f} right ${mean(180, 300)}`);
    }
  });

  test('ffmpeg falling behind: frames are dropped and counted, the caller is never blocked', async () => {
    const rec = await open({ audio: false, maxBufferedFrames: 4 });
    const f = frame(640, 480);
    const start = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) rec.writeVideo(f, T0 + i * 40);
    const perFrameUs = Number(process.hrtime.bigint() - start) / 1000 / 200;
    const sum = await rec.close();
    assert.deepEqual(sum.errors, []);
    assert.ok(sum.stats.videoDropped > 0, 'a burst of 200 frames overflows the bound');
    assert.equal(sum.stats.videoFrames + sum.stats.videoDropped, 200);
    assert.equal(Number(stream(probe(rec.paths.media), 'video')[0]!.nb_read_frames), sum.stats.videoFrames);
    assert.ok(perFrameUs < 5000, `${perFrameUs} µs per writeVideo`);
  });

  test('ffmpeg killed mid-stream: the fragments written so far play, later frames count as dropped', async () => {
    const errors: Error[] = [];
    const rec = await open({ onError: (e) => errors.push(e) });
    await feed(rec, 75, { audio: true });
    const pgrep = spawnSync('pgrep', ['-f', rec.paths.media], { encoding: 'utf8' });
    process.kill(Number(pgrep.stdout.trim().split('\n')[0]), 'SIGKILL');
    await sleep(200);
    await feed(rec, 10, { audio: true });
    const sum = await rec.close();
    assert.match(sum.errors.join('\n'), /SIGKILL/);
    assert.equal(errors.length, 1);
    assert.equal(sum.stats.videoDropped, 10);
    const p = probe(rec.paths.media);
    assert.equal(stream(p, 'video').length, 1);
    const frames = Number(stream(p, 'video')[0]!.nb_read_frames);
    assert.ok(frames >= 50, `${frames} frames survived (keyframes every 2 s)`);
  });

  test('ffmpeg missing: create() rejects with a clear error and creates no recorder', async () => {
    await assert.rejects(open({ ffmpegPath: join(dir, 'no-such-ffmpeg') }), /cannot run ffmpeg.*is ffmpeg installed/);
  });

  test('ffmpeg failing: writes do not throw, close() reports it and counts what was lost', async () => {
    const errors: Error[] = [];
    const rec = await open({ ffmpegPath: '/bin/false', onError: (e) => errors.push(e) });
    await sleep(200);
    await feed(rec, 5, { audio: true, paceMs: 1 });
    const sum = await rec.close();
    assert.match(sum.errors.join('\n'), /ffmpeg exited with 1/);
    assert.equal(errors.length, 1);
    assert.equal(sum.stats.videoDropped, 5);
    assert.equal(sum.stats.videoFrames, 0);
    assert.ok(existsSync(rec.paths.summary));
  });

  test('nothing recorded: no media file, no error', async () => {
    const rec = await open();
    rec.writeMessage({ type: 'error', message: 'bye' });
    const sum = await rec.close();
    assert.deepEqual(sum.errors, []);
    assert.equal(sum.paths.media, null);
    assert.equal(existsSync(rec.paths.media), false);
    assert.equal(readFileSync(rec.paths.results, 'utf8'), '{"type":"error","message":"bye"}\n');
  });
});

describe('AudioTimeline (pure)', () => {
  test('contiguous blocks, silence for gaps and for fillTo, conversion of other formats', () => {
    const t = new AudioTimeline(48_000, 1);
    const a = t.push(tone(0), 10);
    assert.deepEqual(
      a.map((b) => [b.timestampMs, b.pcm.length, b.silence]),
      [[0, 480, false]],
    );
    const b = t.push(tone(1), 520); // starts at 510 ms: 500 ms of silence first
    assert.deepEqual(
      b.map((x) => [x.timestampMs, x.pcm.length, x.silence]),
      [
        [10, 24_000, true],
        [510, 480, false],
      ],
    );
    assert.equal(t.silenceMs, 500);
    assert.deepEqual(t.fillTo(100), []);
    assert.equal(
      t.fillTo(2600).reduce((s, x) => s + x.pcm.length, 0),
      99_840,
    );
    const stereo44 = { samples: new Int16Array(882).fill(1000), sampleRate: 44_100, channels: 2 };
    const c = t.push(stereo44, 2610);
    assert.equal(c.length, 1);
    assert.equal(c[0]!.pcm.length, 480);
    assert.ok(c[0]!.pcm.every((v) => v === 1000));
  });
});
